import { describe, expect, it } from 'vitest';
import { inspectFixture as inspect } from '../testing/docker-inspect.js';
import { containerFromInspect } from './docker-container.js';
import { containerOfEvent } from './docker-events.js';

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
