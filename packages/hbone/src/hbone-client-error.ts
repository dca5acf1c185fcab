import type { ClientHttp2Stream } from 'node:http2';

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

/**
 * Waits for the answer to a CONNECT (or POST-mode) request: resolves on 200; otherwise destroys
 * the stream and rejects with the status, `who` naming the peer in the message.
 */
export function awaitTunnel(stream: ClientHttp2Stream, who: string, target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('response', (headers) => {
      const status = Number(headers[':status']);
      if (status === 200) return resolve();
      stream.destroy();
      reject(new HboneConnectError(status, `${who} answered ${status} for ${target}`));
    });
    stream.once('error', (e) =>
      reject(new HboneConnectError(0, `HBONE stream to ${who} failed: ${e.message}`)),
    );
  });
}
