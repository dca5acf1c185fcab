import { describe, expect, it } from 'vitest';
import { parseWorkloadFile } from './parse-workload-file.js';

describe('parseWorkloadFile', () => {
  it('reads every kind of network, with defaults for namespace and service account', () => {
    const workloads = parseWorkloadFile(
      {
        workloads: [
          { name: 'a', network: { netns: 'pod-a' }, probePorts: [8081] },
          {
            name: 'b',
            namespace: 'web',
            serviceAccount: 'api',
            network: { netnsPath: '/run/netns/b' },
            certDir: 'certs/b',
          },
          { name: 'c', network: { pid: 42 }, carrier: 'mtls', ips: ['10.0.0.3'] },
          { name: 'd', network: { containerId: '4f2a9c' } },
          { name: 'e', network: { hnsEndpoint: '93F86A7F-E361-4362-B8A4-81BBB6A622DD' } },
        ],
      },
      '/srv',
      'w.yaml',
    );
    expect(workloads.map((w) => w.id)).toEqual(['default/a', 'web/b', 'default/c', 'default/d', 'default/e']);
    expect(workloads[0]?.probePorts).toEqual([8081]);
    expect(workloads[1]?.certDir).toBe('/srv/certs/b');
    expect(workloads[2]).toMatchObject({ carrier: 'mtls', ips: ['10.0.0.3'], network: { pid: 42 } });
    expect(workloads[4]?.network).toEqual({ hnsEndpoint: '93f86a7f-e361-4362-b8a4-81bbb6a622dd' });
  });

  it('names every bad field, and refuses duplicates', () => {
    let message = '';
    try {
      parseWorkloadFile(
        {
          workloads: [
            { name: 'a', network: { netns: 'x', pid: 1 } },
            { name: 'A_b', network: { pid: -1 }, probePorts: [70000], colour: 'red' },
            { name: 'c', network: { netns: 'c' } },
            { name: 'c', network: { netns: 'c' } },
          ],
        },
        '/',
        'w.yaml',
      );
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^w\.yaml has 6 problems/);
    for (const line of [
      'workloads[0].network: give exactly one of',
      'workloads[1].colour: unknown field',
      'workloads[1].name: "A_b" is not a name',
      'workloads[1].network.pid: -1 is not a process id',
      'workloads[1].probePorts[0]: 70000 is not a port',
      'workloads[3]: default/c is listed twice',
    ])
      expect(message).toContain(line);
  });
});
