import { describe, expect, it } from 'vitest';
import { containerFromInspect } from '../docker/docker-container.js';
import { inspectFixture as inspect } from '../testing/docker-inspect.js';
import { dockerWorkload } from './docker-workload.js';

describe('workloads from Docker containers', () => {
  it('opted-in containers become workloads with identity labels; others do not', () => {
    const c = containerFromInspect(inspect(), 'linux')!;
    expect(dockerWorkload(c, 'switchyard.io/capture', 'enabled')).toEqual({
      id: 'shop/web',
      name: 'web',
      namespace: 'shop',
      serviceAccount: 'default',
      network: { pid: 4242 },
      ips: ['172.17.0.2', 'fd00::2'],
      probePorts: [],
      families: ['ipv4', 'ipv6'],
    });
    // On a network without IPv6 (Docker's default bridge) Docker turns IPv6 off: capture IPv4 only.
    expect(
      dockerWorkload({ ...c, ips: ['172.17.0.2'] }, 'switchyard.io/capture', 'enabled')?.families,
    ).toEqual(['ipv4']);
    expect(dockerWorkload({ ...c, labels: {} }, 'switchyard.io/capture', 'enabled')).toBeUndefined();
    const windows = containerFromInspect(inspect(), 'win32')!;
    expect(dockerWorkload(windows, 'switchyard.io/capture', 'enabled')).toBeUndefined();
    expect(dockerWorkload(windows, 'switchyard.io/capture', 'enabled', 'guid-1')?.network).toEqual({
      hnsEndpoint: 'guid-1',
    });
  });
});
