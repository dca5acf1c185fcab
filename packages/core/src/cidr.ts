import ipaddr from 'ipaddr.js';
import type { IpFamily } from './policy.js';
import { quoteInput } from './quote.js';

/** A parsed, canonical CIDR block. */
export interface Cidr {
  /** `ipv4` or `ipv6`. */
  family: IpFamily;
  /** The network address in canonical text (`10.0.0.0`, `fd00::`). */
  address: string;
  /** Prefix length in bits. */
  prefixLength: number;
  /** `address/prefixLength`. */
  text: string;
}

/**
 * `ipaddr.parseCIDR` for the family the text looks like: the library's own tries IPv6 first and
 * pays for a thrown error on every IPv4 block, which dominated normalising long lists.
 */
function parseEither(text: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  return text.includes(':') ? ipaddr.IPv6.parseCIDR(text) : ipaddr.IPv4.parseCIDR(text);
}

/** Why a string is not a usable CIDR; the sentence names the fix. */
export type CidrProblem = { ok: false; message: string };

/**
 * Parses `10.0.0.0/8`, `fd00::/8`, or a bare address (taken as /32 or /128).
 * Host bits must be zero: `10.0.0.1/8` is refused with the network the user probably meant.
 */
export function parseCidr(text: string): ({ ok: true } & Cidr) | CidrProblem {
  const trimmed = text.trim();
  const withPrefix = trimmed.includes('/') ? trimmed : `${trimmed}/${trimmed.includes(':') ? 128 : 32}`;
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = parseEither(withPrefix);
  } catch {
    return {
      ok: false,
      message: `${quoteInput(text)} is not a CIDR block; write an address with a prefix length such as "10.0.0.0/8" or "fd00::/8"`,
    };
  }
  const [address, prefixLength] = parsed;
  // parseCIDR accepts dotted-quad forms such as "10.1/8"; we want exactly four octets for IPv4.
  if (address.kind() === 'ipv4' && !ipaddr.IPv4.isValidFourPartDecimal(withPrefix.split('/')[0] ?? '')) {
    return {
      ok: false,
      message: `${quoteInput(text)} is not a dotted-quad IPv4 address; write all four octets, e.g. "10.0.0.0/8"`,
    };
  }
  const family: IpFamily = address.kind() === 'ipv4' ? 'ipv4' : 'ipv6';
  const network =
    family === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(withPrefix).toString()
      : ipaddr.IPv6.networkAddressFromCIDR(withPrefix).toString();
  const given = address.toString();
  if (network !== given) {
    return {
      ok: false,
      message: `${quoteInput(text)} has host bits set; the network for /${prefixLength} is "${network}/${prefixLength}"`,
    };
  }
  return { ok: true, family, address: network, prefixLength, text: `${network}/${prefixLength}` };
}

/**
 * A matcher for a list of CIDR blocks, parsed once: call it per connection without re-parsing.
 * IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) match IPv4 blocks; mixed families never match;
 * an address that is not an IP literal matches nothing.
 */
export function cidrMatcher(cidrs: readonly string[]): (address: string) => boolean {
  const blocks = cidrs.map((c) => ipaddr.parseCIDR(c));
  if (blocks.length === 0) return () => false;
  return (address) => {
    let ip: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      ip = ipaddr.parse(address);
    } catch {
      return false;
    }
    const v4 =
      ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()
        ? (ip as ipaddr.IPv6).toIPv4Address()
        : undefined;
    return blocks.some(([net, bits]) => {
      const candidate = net.kind() === 'ipv4' && v4 ? v4 : ip;
      return candidate.kind() === net.kind() && candidate.match(net, bits);
    });
  };
}

/** True when `address` (an IP literal) lies inside `cidr`. For many checks against one list, use {@link cidrMatcher}. */
export function cidrContains(cidr: string, address: string): boolean {
  return cidrMatcher([cidr])(address);
}

/** True when every address of `inner` lies in `outer` (both canonical CIDRs of one family). */
export function cidrCovers(outer: string, inner: string): boolean {
  const [o, oBits] = ipaddr.parseCIDR(outer);
  const [i, iBits] = ipaddr.parseCIDR(inner);
  return o.kind() === i.kind() && oBits <= iBits && i.match(o, oBits);
}

/** A block as numbers: where it starts and ends, so containment is two comparisons. */
interface Span {
  text: string;
  family: string;
  start: bigint;
  end: bigint;
  bits: number;
}

function spanOf(cidr: string): Span {
  const [address, bits] = parseEither(cidr);
  const width = address.kind() === 'ipv4' ? 32 : 128;
  const start = address.toByteArray().reduce((n, byte) => (n << 8n) | BigInt(byte), 0n);
  return { text: cidr, family: address.kind(), start, end: start + (1n << BigInt(width - bits)) - 1n, bits };
}

/**
 * The smallest list covering the same addresses as `cidrs` (canonical CIDRs): duplicates and
 * blocks inside another block are dropped; the result is sorted as text. O(n log n): sorted by
 * family, start address and then widest first, a block is covered exactly when it lies inside
 * the last block kept, since two CIDR blocks either nest or do not overlap at all.
 */
export function withoutCoveredBlocks(cidrs: readonly string[]): string[] {
  const spans = cidrs.map(spanOf);
  spans.sort((a, b) =>
    a.family !== b.family
      ? a.family < b.family
        ? -1
        : 1
      : a.start !== b.start
        ? a.start < b.start
          ? -1
          : 1
        : a.bits - b.bits,
  );
  const kept: Span[] = [];
  for (const span of spans) {
    const last = kept[kept.length - 1];
    if (last && last.family === span.family && span.start <= last.end) continue;
    kept.push(span);
  }
  return kept.map((s) => s.text).sort();
}
