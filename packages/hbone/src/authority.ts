import { isIP } from 'node:net';
import { type Endpoint, formatEndpoint } from '@switchyard/core';

/** An HBONE target: the original destination, an IP literal and a port (core's {@link Endpoint}). */
export type HboneAuthority = Endpoint;

/** Parses `:authority` as HBONE carries it: `10.0.0.7:8080` or `[fd00::7]:8080`. Returns undefined when malformed. */
export function parseAuthority(text: string | undefined): HboneAuthority | undefined {
  if (!text) return undefined;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const address = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  const family = isIP(address);
  if (family === 0 || (family === 6 && !m[1]) || port < 1 || port > 65535) return undefined;
  return { address, port };
}

/** Formats an address and port as `:authority` (core's one endpoint formatter). */
export const formatAuthority: (a: HboneAuthority) => string = formatEndpoint;

/** `forwarded: for="ip:port"` for the client's address (RFC 7239 quoting, IPv6 in brackets). */
export function forwardedFor(address: string, port: number): string {
  return `for="${formatAuthority({ address, port })}"`;
}

/** The client address in a `forwarded` header, if it names one. */
export function parseForwardedFor(header: string | string[] | undefined): HboneAuthority | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const m = /for="?([^";,]+)"?/i.exec(value ?? '');
  return m ? parseAuthority(m[1]) : undefined;
}
