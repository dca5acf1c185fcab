import type { ContainerInspectInfo } from 'dockerode';
import { describe, expect, it } from 'vitest';
import { containerFromInspect } from './docker-container.js';
import { containerOfEvent } from './docker-events.js';
import { dockerWorkload } from './docker-workload.js';

const inspect = (more: Record<string, unknown> = {}) =>
  ({
    Id: 'abc123',
    Name: '/web',
    State: { Running: true, Pid: 4242, StartedAt: '2026-12-02T10:00:00.000Z' },
    Config: { Labels: { 'switchyard.io/capture': 'enabled', 'switchyard.io/namespace': 'shop' } },
    HostConfig: { NetworkMode: 'bridge' },
    NetworkSettings: { Networks: { bridge: { IPAddress: '172.17.0.2', GlobalIPv6Address: 'fd00::2' } } },
    ...more,
  }) as unknown as ContainerInspectInfo;

describe('containers from the Engine API', () => {
  it('a running container: its first process namespace on Linux, its address on Windows', () => {
    expect(containerFromInspect(inspect(), 'linux')).toEqual({
      id: 'abc123',
      name: 'web',
      labels: { 'switchyard.io/capture': 'enabled', 'switchyard.io/namespace': 'shop' },
      pid: 4242,
      startedAt: '2026-12-02T10:00:00.000Z',
      ips: ['172.17.0.2', 'fd00::2'],
      network: { kind: 'netns', path: '/proc/4242/ns/net' },
    });
    expect(containerFromInspect(inspect(), 'win32')?.network).toEqual({ kind: 'hns', ip: '172.17.0.2' });
  });

  it('a stopped container is not there; a host-network one has no network to capture', () => {
    expect(
      containerFromInspect(inspect({ State: { Running: false, Pid: 0, StartedAt: '' } })),
    ).toBeUndefined();
    expect(containerFromInspect(inspect({ HostConfig: { NetworkMode: 'host' } }))?.network).toBeUndefined();
  });

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

  it("events name their container: directly, or in a network event's attributes", () => {
    expect(containerOfEvent({ Type: 'container', Action: 'start', Actor: { ID: 'c1' } })).toBe('c1');
    expect(
      containerOfEvent({
        Type: 'network',
        Action: 'connect',
        Actor: { ID: 'n1', Attributes: { container: 'c2' } },
      }),
    ).toBe('c2');
    expect(containerOfEvent({ Type: 'image', Action: 'pull', Actor: { ID: 'i' } })).toBeUndefined();
  });
});
