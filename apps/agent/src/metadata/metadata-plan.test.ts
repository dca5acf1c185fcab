import { describe, expect, it } from 'vitest';
import type { DockerContainer } from '../docker/docker-container.js';
import { planMetadata } from './metadata-plan.js';

const LABEL = 'switchyard.io/metadata';
const container = (
  name: string,
  labels: Record<string, string>,
  more: Partial<DockerContainer> = {},
): DockerContainer => ({
  id: `id-${name}`,
  name,
  labels,
  pid: 100,
  startedAt: '2026-12-02T10:00:00.000Z',
  ips: ['10.0.0.9'],
  network: { kind: 'netns', path: '/proc/100/ns/net' },
  ...more,
});

describe('planMetadata', () => {
  it('finds the proxy and the clients by the label; unlabelled containers are not in the plan', () => {
    const plan = planMetadata(
      [
        container('p', { [LABEL]: 'proxy' }, { ips: ['10.0.0.2'] }),
        container('c1', { [LABEL]: 'client' }),
        container('c2', { [LABEL]: 'client', other: 'x' }),
        container('plain', { other: 'x' }),
      ],
      LABEL,
    );
    expect(plan.proxy).toMatchObject({ name: 'p', address: '10.0.0.2' });
    expect(plan.clients.map((c) => c.name)).toEqual(['c1', 'c2']);
    expect(plan.ignored).toEqual([]);
  });

  it('of several proxies the one started last serves; the others stand by', () => {
    const plan = planMetadata(
      [
        container('old', { [LABEL]: 'proxy' }, { startedAt: '2026-12-02T10:00:00.000Z', ips: ['10.0.0.2'] }),
        container('new', { [LABEL]: 'proxy' }, { startedAt: '2026-12-02T10:05:00.000Z', ips: ['10.0.0.3'] }),
      ],
      LABEL,
    );
    expect(plan.proxy).toMatchObject({ name: 'new', address: '10.0.0.3' });
    expect(plan.standby).toEqual([{ id: 'id-old', name: 'old' }]);
  });

  it('ignores, with the reason, host-network clients, proxies without an address and unknown values', () => {
    const plan = planMetadata(
      [
        container('host', { [LABEL]: 'client' }, { network: undefined }),
        container('noip', { [LABEL]: 'proxy' }, { ips: [] }),
        container('typo', { [LABEL]: 'clinet' }),
      ],
      LABEL,
    );
    expect(plan.proxy).toBeUndefined();
    expect(plan.clients).toEqual([]);
    expect(plan.ignored.map((i) => [i.name, i.reason])).toEqual([
      ['host', "it uses the host's network, which is never captured"],
      ['noip', 'the proxy container has no address'],
      ['typo', 'switchyard.io/metadata=clinet: the value must be "client" or "proxy"'],
    ]);
  });

  it('leaves a client that also opts in to the mesh to the mesh, when asked to', () => {
    const both = container('both', { [LABEL]: 'client', 'switchyard.io/capture': 'enabled' });
    const optIn = { label: 'switchyard.io/capture', value: 'enabled' };
    expect(planMetadata([both], LABEL).clients.map((c) => c.name)).toEqual(['both']);
    const plan = planMetadata([both], LABEL, optIn);
    expect(plan.clients).toEqual([]);
    expect(plan.ignored.map((i) => i.reason)).toEqual([
      'it is captured by the mesh (switchyard.io/capture=enabled), and the driver holds one policy per network',
    ]);
  });
});
