import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/validate-config.js';
import type { Workload } from '../sources/workload.js';
import { plan } from './plan.js';

const config = validateConfig(
  { identity: { certDir: '/certs/{namespace}/{serviceAccount}' }, meshCidrs: ['10.0.0.0/8'] },
  '/',
);
const workload: Workload = {
  id: 'web/api',
  name: 'api',
  namespace: 'web',
  serviceAccount: 'api-sa',
  network: { netns: 'pod-a' },
  ips: ['10.0.0.7'],
  probePorts: [8081, 15008],
};
const netns = { target: { kind: 'netns' as const, name: 'pod-a' }, addresses: ['10.0.0.7'] };

describe('plan', () => {
  it.each(['hbone', 'mtls'] as const)(
    '%s: never excludes the agent’s admin port (it is not served in the workload’s network)',
    (carrier) => {
      const p = plan({ ...workload, carrier, probePorts: [] }, netns, config);
      expect(p.policy.inbound?.excludePorts).not.toContain(config.admin.port);
      expect(p.policy.inbound?.excludePorts).toEqual(carrier === 'hbone' ? [15008] : []);
    },
  );

  it.each([
    ['hbone', [8081, 15008], { hbone: 15008 }],
    ['mtls', [8081, 15008], {}],
  ] as const)(
    '%s: excludes the HBONE port and the probe ports from inbound capture, once each',
    (carrier, excluded, ports) => {
      const p = plan({ ...workload, carrier }, netns, config);
      expect(p.policy.inbound).toEqual({ port: 15006, excludePorts: excluded });
      expect(p.policy.outbound).toEqual({ port: 15001 });
      expect(p.serve.ports).toEqual(ports);
      expect(p.serve.outbound?.meshCidrs).toEqual(['10.0.0.0/8']);
    },
  );

  it('puts the one bypass mark in the rules and in the dials', () => {
    const p = plan(workload, netns, config);
    expect(p.policy.bypass).toEqual({ mark: p.bypassMark });
    expect(p.bypassMark).toBe(config.bypass.mark);
  });

  it("captures only the configured families the workload's network has (a Docker container without IPv6)", () => {
    expect(plan(workload, netns, config).policy.families).toEqual(['ipv4', 'ipv6']);
    const v4 = plan({ ...workload, families: ['ipv4'] }, netns, config);
    expect(v4.policy.families).toEqual(['ipv4']);
    expect(v4.serve.inbound?.families).toEqual(['ipv4']);
    expect(v4.serve.outbound?.families).toEqual(['ipv4']);
    const v4Config = validateConfig({ identity: { caDir: '/ca' }, families: ['ipv4'] }, '/');
    expect(plan({ ...workload, families: ['ipv4', 'ipv6'] }, netns, v4Config).policy.families).toEqual([
      'ipv4',
    ]);
  });

  it('bypasses by the account SID on an HNS endpoint', () => {
    const p = plan(workload, { target: { kind: 'hns-endpoint', id: 'x' }, addresses: [] }, config);
    expect(p.policy.bypass).toEqual({ userSid: 'S-1-5-18' });
  });

  it('derives the identity and fills the certificate directory template', () => {
    expect(plan(workload, netns, config).identity).toEqual({
      spiffeId: 'spiffe://cluster.local/ns/web/sa/api-sa',
      namespace: 'web',
      serviceAccount: 'api-sa',
      certDir: '/certs/web/api-sa',
    });
  });

  it('is pure: the same input gives the same plan', () => {
    expect(JSON.stringify(plan(workload, netns, config))).toBe(JSON.stringify(plan(workload, netns, config)));
  });
});
