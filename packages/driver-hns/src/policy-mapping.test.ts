import { normalizePolicy } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { fromHnsPolicies, toHnsPolicies } from './policy-mapping.js';

const map = (p: unknown) => toHnsPolicies(normalizePolicy(p));

describe('toHnsPolicies', () => {
  it('maps a sidecar policy to one L4WFPPROXY policy with both ports, exceptions and the bypass SID', () => {
    expect(
      map({
        families: ['ipv4'],
        inbound: { port: 15006, excludePorts: [15020, '15021'] },
        outbound: { port: 15001, excludeCidrs: ['169.254.169.254/32', '10.96.0.0/12'], excludePorts: [53] },
        bypass: { userSid: 'S-1-5-32-556' },
        priority: 7,
      }),
    ).toEqual([
      {
        Type: 'L4WFPPROXY',
        Settings: {
          InboundProxyPort: '15006',
          OutboundProxyPort: '15001',
          FilterTuple: { Protocols: '6', Priority: 7 },
          UserSID: 'S-1-5-32-556',
          InboundExceptions: { IpAddressExceptions: ['127.0.0.1'], PortExceptions: ['15020', '15021'] },
          OutboundExceptions: {
            IpAddressExceptions: ['127.0.0.1', '10.96.0.0/12', '169.254.169.254'],
            PortExceptions: ['53'],
          },
        },
      },
    ]);
  });

  it('splits include filters into one policy per value and direction', () => {
    const policies = map({
      families: ['ipv4'],
      inbound: { port: 15006, includePorts: [8080] },
      outbound: {
        port: 15001,
        includeCidrs: ['10.0.0.0/8', '192.168.1.10/32'],
        includePorts: [80, '8000-8010'],
      },
    });
    expect(policies.map((p) => p.Settings.FilterTuple)).toEqual([
      { Protocols: '6', LocalPorts: '8080' },
      { Protocols: '6', RemoteAddresses: '10.0.0.0/8', RemotePorts: '80' },
      { Protocols: '6', RemoteAddresses: '10.0.0.0/8', RemotePorts: '8000-8010' },
      { Protocols: '6', RemoteAddresses: '192.168.1.10', RemotePorts: '80' },
      { Protocols: '6', RemoteAddresses: '192.168.1.10', RemotePorts: '8000-8010' },
    ]);
  });

  it.each([
    ['IPv6 (the default families include it)', { inbound: {} }, /IPv4 only; set "families": \["ipv4"\]/],
    ['IPv6-only', { families: ['ipv6'], inbound: {} }, /IPv4 only/],
    [
      'a socket-mark bypass',
      { families: ['ipv4'], inbound: {}, bypass: { mark: 1337 } },
      /user SID, not by a socket mark.*S-1-5-32-556/,
    ],
    ['a uid bypass', { families: ['ipv4'], inbound: {}, bypass: { uid: 1337 } }, /S-1-5-18/],
    [
      'too many excepted ports',
      { families: ['ipv4'], inbound: { excludePorts: ['1000-3000'] } },
      /2001 ports/,
    ],
  ])('refuses %s with SWY_ERR_POLICY_UNSUPPORTED', (_label, policy, message) => {
    expect(() => map(policy)).toThrow(message);
    try {
      map(policy);
    } catch (e) {
      expect((e as { code: string }).code).toBe('SWY_ERR_POLICY_UNSUPPORTED');
    }
  });
});

describe('fromHnsPolicies', () => {
  it.each([
    {
      families: ['ipv4'],
      inbound: { port: 15006, excludePorts: [15020, 15021] },
      outbound: { port: 15001, excludeCidrs: ['10.96.0.0/12'] },
    },
    {
      families: ['ipv4'],
      outbound: { port: 15001, includeCidrs: ['10.0.0.0/8'], includePorts: [80, 443] },
      bypass: { userSid: 'S-1-5-18' },
    },
    { families: ['ipv4'], inbound: { port: 16006, includePorts: [8080, 9090] }, priority: 3 },
  ])('rebuilds the policy from what HNS returns (keys in any case): %j', (input) => {
    const policy = normalizePolicy({ id: 'p', ...input });
    const returned = JSON.parse(
      JSON.stringify(toHnsPolicies(policy))
        .replaceAll('"Settings"', '"settings"')
        .replaceAll('"Type"', '"type"'),
    );
    expect(fromHnsPolicies('p', returned)).toEqual(policy);
  });
});
