import { isIP } from 'node:net';
import { cidrMatcher } from '@switchyard/core';

/** An address block of a policy (`10.0.0.0/8`; a bare address is a /32 or /128). */
export interface IpBlock {
  /** As written in the policy. */
  text: string;
  /** Whether an address lies in the block (an IPv4-mapped IPv6 address counts as its IPv4 address). */
  contains: (address: string) => boolean;
}

/**
 * Reads `10.0.0.0/8` or `10.0.0.7` (a bare address is the one address). Undefined for anything
 * else: istiod leaves such an entry out of what it sends ztunnel, and so does this.
 */
export function ipBlock(text: string): IpBlock | undefined {
  const family = isIP(text);
  const cidr = family === 4 ? `${text}/32` : family === 6 ? `${text}/128` : text;
  try {
    return { text, contains: cidrMatcher([cidr]) };
  } catch {
    return undefined;
  }
}
