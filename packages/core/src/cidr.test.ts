import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { cidrContains, cidrCovers, cidrMatcher, parseCidr, withoutCoveredBlocks } from './cidr.js';

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', 'ipv4', '10.0.0.0/8'],
    ['192.168.1.7', 'ipv4', '192.168.1.7/32'],
    ['FD00::/8', 'ipv6', 'fd00::/8'],
    ['2001:db8:0:0::1', 'ipv6', '2001:db8::1/128'],
    ['0.0.0.0/0', 'ipv4', '0.0.0.0/0'],
    ['::/0', 'ipv6', '::/0'],
  ])('accepts %s as %s %s', (text, family, canonical) => {
    expect(parseCidr(text)).toMatchObject({ ok: true, family, text: canonical });
  });

  it.each([
    ['10.0.0.1/8', /host bits set; the network for \/8 is "10\.0\.0\.0\/8"/],
    ['10.0.0.0/33', /not a CIDR/],
    ['10.1/16', /dotted-quad/],
    ['fd00::1/8', /"fd00::\/8"/],
    ['example.com/24', /not a CIDR/],
    ['', /not a CIDR/],
  ])('refuses %s', (text, message) => {
    const result = parseCidr(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  });
});

describe('cidrContains', () => {
  it('matches addresses of the same family, and IPv4-mapped IPv6 addresses against IPv4 blocks', () => {
    expect(cidrContains('10.0.0.0/8', '10.1.2.3')).toBe(true);
    expect(cidrContains('10.0.0.0/8', '11.0.0.1')).toBe(false);
    expect(cidrContains('10.0.0.0/8', '::ffff:10.0.0.1')).toBe(true);
    expect(cidrContains('fd00::/8', 'fd12::1')).toBe(true);
    expect(cidrContains('fd00::/8', '10.0.0.1')).toBe(false);
  });
});

describe('cidrMatcher', () => {
  it('matches against a whole list parsed once, and never matches what is not an address', () => {
    const inMesh = cidrMatcher(['10.0.0.0/8', 'fd00::/8']);
    expect(inMesh('10.9.8.7')).toBe(true);
    expect(inMesh('::ffff:10.0.0.1')).toBe(true);
    expect(inMesh('fd12::1')).toBe(true);
    expect(inMesh('192.168.1.1')).toBe(false);
    expect(inMesh('not-an-ip')).toBe(false);
    expect(cidrMatcher([])('10.0.0.1')).toBe(false);
  });
});

describe('withoutCoveredBlocks', () => {
  // The obvious quadratic definition, to check the sort-and-sweep against.
  const reference = (cidrs: string[]) =>
    [...new Set(cidrs)].filter((c) => !cidrs.some((o) => o !== c && cidrCovers(o, c))).sort();
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  /** A random canonical block, often nested in or equal to another of the same round. */
  const block = (): string => {
    const v6 = random(3) === 0;
    const bits = v6 ? 100 + random(29) : 8 + random(25);
    const address = v6 ? `fd00:${random(4)}::${random(4)}` : `10.${random(3)}.${random(4)}.${random(256)}`;
    const network = (v6 ? ipaddr.IPv6 : ipaddr.IPv4).networkAddressFromCIDR(`${address}/${bits}`);
    return `${network.toString()}/${bits}`;
  };

  it('keeps exactly the blocks no other block covers, across families, duplicates and nesting', () => {
    for (let round = 0; round < 50; round++) {
      const cidrs = Array.from({ length: 40 }, block);
      expect(withoutCoveredBlocks(cidrs)).toEqual(reference(cidrs));
    }
  });
});
