import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CARRIER_API_VERSION } from '@switchyard/dataplane/carrier';
import { describe, expect, it } from 'vitest';
import { loadCarrierModules } from '../carriers/carriers.js';
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
  it('lets a workload in the file name mtls-native, and lists it among the choices', () => {
    const file = (carrier: string) => ({ workloads: [{ name: 'a', carrier, network: { netns: 'a' } }] });
    const ok = parseWorkloadFile(file('mtls-native'), '/etc', 'workloads.yaml');
    expect(ok[0]?.carrier).toBe('mtls-native');
    expect(() => parseWorkloadFile(file('udp'), '/etc', 'workloads.yaml')).toThrow(
      /"udp" is not one of "hbone", "hbone-native", "mtls", "mtls-native"/,
    );
  });

  it('lets a workload name a carrier the config’s carrierModules loaded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swy-workload-carrier-'));
    try {
      writeFileSync(
        join(dir, 'acme-carrier.mjs'),
        `export default { name: 'acme-file', apiVersion: ${CARRIER_API_VERSION}, description: 'a test carrier', create: () => ({ name: 'acme-file', create: () => ({ async outbound(c) { c.socket.destroy(); }, drain() {}, async close() {} }) }) };\n`,
      );
      expect(await loadCarrierModules(['./acme-carrier.mjs'], dir)).toEqual([]);
      const file = { workloads: [{ name: 'a', carrier: 'acme-file', network: { netns: 'a' } }] };
      expect(parseWorkloadFile(file, dir, 'workloads.yaml')[0]?.carrier).toBe('acme-file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
