import { describe, expect, it } from 'vitest';
import { proxyProtocolV2Header } from './proxy-protocol.js';

// The byte layouts of the PROXY protocol specification (v2, section 2.2), written out by hand.
// haproxy reading these headers from a real relay is tested in the agent (metadata-caller).
const SIGNATURE = '0d0a0d0a000d0a515549540a';

describe('PROXY protocol v2 header', () => {
  it('TCP over IPv4: signature, PROXY command, 12 bytes of addresses and ports', () => {
    const header = proxyProtocolV2Header(
      { address: '172.17.0.5', port: 40_001 },
      { address: '169.254.169.254', port: 80 },
    );
    expect(header.toString('hex')).toBe(
      [SIGNATURE, '2111000c', 'ac110005', 'a9fea9fe', '9c41', '0050'].join(''),
    );
  });

  it('TCP over IPv6: 36 bytes; an IPv4 side is mapped when the other is IPv6', () => {
    const header = proxyProtocolV2Header({ address: 'fd00::5', port: 1 }, { address: '10.0.0.1', port: 443 });
    expect(header.toString('hex')).toBe(
      [
        SIGNATURE,
        '21210024',
        'fd000000000000000000000000000005',
        '00000000000000000000ffff0a000001',
        '0001',
        '01bb',
      ].join(''),
    );
  });

  it('refuses what is not an IP address', () => {
    expect(() =>
      proxyProtocolV2Header({ address: 'metadata', port: 1 }, { address: '10.0.0.1', port: 2 }),
    ).toThrow(TypeError);
  });
});
