/**
 * An address and a port: the one `{ address, port }` of Switchyard (a destination, an HBONE
 * authority, a metadata endpoint); {@link SocketAddress} adds the family.
 */
export interface Endpoint {
  address: string;
  port: number;
}

/** `10.0.0.1:80` or `[fd00::1]:80`: how every log line, report and `:authority` prints an endpoint. */
export function formatEndpoint(e: Endpoint): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}
