import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * An IP address in network byte order: four bytes for IPv4, sixteen for IPv6; with `width: 16`
 * an IPv4 address is given IPv4-mapped (`::ffff:a.b.c.d`).
 *
 * @throws TypeError when `address` is not an IP address.
 */
export function addressBytes(address: string, width?: 16): Buffer {
  if (isIP(address) === 0) throw new TypeError(`${JSON.stringify(address)} is not an IP address`);
  const parsed = ipaddr.parse(address);
  const wide =
    width === 16 && parsed.kind() === 'ipv4' ? (parsed as ipaddr.IPv4).toIPv4MappedAddress() : parsed;
  return Buffer.from(wide.toByteArray());
}
