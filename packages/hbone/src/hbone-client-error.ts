/** A CONNECT that did not get a 200; `status` is the HTTP status (or 0 when the stream failed first). */
export class HboneConnectError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HboneConnectError';
  }
}
