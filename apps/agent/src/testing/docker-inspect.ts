import type { ContainerInspectInfo } from 'dockerode';

/** A running, opted-in container as `GET /containers/{id}/json` reports it; `more` overrides fields. */
export const inspectFixture = (more: Record<string, unknown> = {}): ContainerInspectInfo =>
  ({
    Id: 'abc123',
    Name: '/web',
    State: { Running: true, Pid: 4242, StartedAt: '2026-12-02T10:00:00.000Z' },
    Config: { Labels: { 'switchyard.io/capture': 'enabled', 'switchyard.io/namespace': 'shop' } },
    HostConfig: { NetworkMode: 'bridge' },
    NetworkSettings: { Networks: { bridge: { IPAddress: '172.17.0.2', GlobalIPv6Address: 'fd00::2' } } },
    ...more,
  }) as unknown as ContainerInspectInfo;
