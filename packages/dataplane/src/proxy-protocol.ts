import { isIP } from 'node:net';
import { addressBytes } from '@switchyard/core';
import type { Endpoint } from './decide.js';

/** The twelve bytes every PROXY protocol v2 header starts with (the protocol's signature). */
const SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** Version 2, command PROXY (the connection is relayed on behalf of another host). */
const VERSION_PROXY = 0x21;
/** Address family and transport: TCP over IPv4, TCP over IPv6. */
const TCP4 = 0x11;
const TCP6 = 0x21;

/**
 * A PROXY protocol v2 header (haproxy's specification, section 2.2) that names `source` as the
 * connection's client and `destination` as where it was going, so a server behind a relay learns
 * its real caller. Both IPv4 gives a TCP4 header; otherwise TCP6, with an IPv4 address mapped.
 *
 * @throws TypeError when an address is not an IP address.
 */
export function proxyProtocolV2Header(source: Endpoint, destination: Endpoint): Buffer {
  const v4 = isIP(source.address) === 4 && isIP(destination.address) === 4;
  const width = v4 ? undefined : 16;
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(source.port, 0);
  ports.writeUInt16BE(destination.port, 2);
  const body = Buffer.concat([
    addressBytes(source.address, width),
    addressBytes(destination.address, width),
    ports,
  ]);
  const head = Buffer.from([VERSION_PROXY, v4 ? TCP4 : TCP6, 0, 0]);
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([SIGNATURE, head, body]);
}
