import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@switchyard/dataplane';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeConfig } from '../kubernetes/kube-config.js';
import { FakeKubeApi } from '../testing/fake-kube-api.js';
import { endpointSliceObject, serviceObject, writeKubeconfig } from '../testing/kube-fixtures.js';
import { podIndexOf } from '../testing/pod-index-fixtures.js';
import { promptly } from '../testing/promptly.js';
import { ServiceDirectory } from './service-directory.js';
import { type ServiceWatch, serviceWatch } from './service-watch.js';

const VIP = { address: '10.96.0.10', port: 80 };
const endpointsAt = (d: ServiceDirectory) => {
  const found = d.resolve(VIP);
  return found?.kind === 'service' ? found.endpoints.map((e) => `${e.address}:${e.port}`) : found?.kind;
};

describe('the Service watch, through @kubernetes/client-node against the list/watch fake', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-svc-watch-'));
  let api: FakeKubeApi;
  let watch: ServiceWatch;
  const directory = new ServiceDirectory('cluster.local');
  const slice = (ips: string[], ready = true) =>
    endpointSliceObject({
      name: 'api-1',
      namespace: 'web',
      service: 'api',
      ports: [{ name: 'http', port: 8080 }],
      endpoints: ips.map((ip) => ({ ip, ready })),
    });

  beforeAll(async () => {
    api = await new FakeKubeApi({ bookmarkMs: 200 }).start();
    api.put(
      'services',
      serviceObject({
        name: 'api',
        namespace: 'web',
        clusterIP: VIP.address,
        ports: [{ name: 'http', port: 80, targetPort: 8080 }],
      }),
    );
    api.put('endpointslices', slice(['10.0.0.1', '10.0.0.2']));
    directory.pods(
      podIndexOf([
        ['10.0.0.1', { namespace: 'web', serviceAccount: 'api', pod: 'a', inMesh: true }],
        ['10.0.0.2', { namespace: 'web', serviceAccount: 'api', pod: 'b', inMesh: true }],
      ]),
    );
    watch = serviceWatch(await kubeConfig(writeKubeconfig(dir, api.url)), directory, silentLogger);
    await watch.start();
  });
  afterAll(async () => {
    await watch?.stop();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the first list fills the directory before start resolves', () => {
    expect(endpointsAt(directory)).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);
    expect(api.requests.some((r) => r.startsWith('GET /apis/discovery.k8s.io/v1/endpointslices?'))).toBe(
      true,
    );
    expect(api.requests.some((r) => /^GET \/api\/v1\/services\?.*watch=true/.test(r))).toBe(true);
  });

  it('an endpoint scaled away, one turned not ready, and the Service deleted: each in force from its watch event', async () => {
    // The watch has no resync here: only the event can bring each change.
    const within = async (change: () => void, expected: string[] | undefined) => {
      change();
      await promptly(() => endpointsAt(directory), expected, 5);
    };
    await within(() => api.put('endpointslices', slice(['10.0.0.2'])), ['10.0.0.2:8080']);
    await within(() => api.put('endpointslices', slice(['10.0.0.2'], false)), []);
    await within(() => api.put('endpointslices', slice(['10.0.0.1'])), ['10.0.0.1:8080']);
    await within(() => api.delete('services', 'web', 'api'), undefined);
  });

  it('after an API restart that forgot the history (410 Gone), it relists and follows again', async () => {
    api.dropWatches();
    api.compact();
    api.put(
      'services',
      serviceObject({
        name: 'api',
        namespace: 'web',
        clusterIP: VIP.address,
        ports: [{ name: 'http', port: 80, targetPort: 8080 }],
      }),
    );
    await expect.poll(() => endpointsAt(directory)).toEqual(['10.0.0.1:8080']);
    expect(api.expired).toBeGreaterThan(0);
  });
});
