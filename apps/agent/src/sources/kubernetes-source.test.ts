import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@switchyard/dataplane';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeKubeApi } from '../testing/fake-kube-api.js';
import { namespaceObject, podObject, writeKubeconfig } from '../testing/kube-fixtures.js';
import { kubernetesSource } from './kubernetes-source.js';
import type { PodView } from './pod-index.js';
import type { Workload, WorkloadSource } from './workload.js';

const LABEL = 'switchyard.io/capture';

describe('the kubernetes source, through @kubernetes/client-node, against the list/watch fake', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-kube-'));
  let api: FakeKubeApi;
  let source: WorkloadSource;
  let latest: readonly Workload[] = [];
  let pods: PodView | undefined;
  /** Who the source says holds an address, as the identity resolver and Services read it. */
  const peer = (ip: string) => {
    const p = pods?.ownerOf(ip);
    return p && { namespace: p.namespace, serviceAccount: p.serviceAccount, pod: p.name, inMesh: p.inMesh };
  };
  const ids = () => latest.map((w) => w.id).sort();
  const lists = () =>
    api.requests.filter((r) => r.startsWith('GET /api/v1/pods?fieldSelector') && !/watch=/.test(r)).length;

  beforeAll(async () => {
    api = await new FakeKubeApi({ bookmarkMs: 100 }).start();
    api.put('namespaces', namespaceObject('web', { [LABEL]: 'enabled' }));
    api.put('namespaces', namespaceObject('other'));
    api.put(
      'pods',
      podObject({
        name: 'api',
        namespace: 'web',
        node: 'n1',
        ip: '10.0.0.7',
        containerId: 'aa11',
        serviceAccount: 'api',
        probePort: 8081,
      }),
    );
    api.put(
      'pods',
      podObject({
        name: 'x',
        namespace: 'other',
        node: 'n1',
        ip: '10.0.0.8',
        containerId: 'bb22',
        labels: { [LABEL]: 'enabled' },
      }),
    );
    api.put(
      'pods',
      podObject({ name: 'y', namespace: 'other', node: 'n1', ip: '10.0.0.9', containerId: 'cc33' }),
    );
    api.put(
      'pods',
      podObject({
        name: 'remote',
        namespace: 'web',
        node: 'n2',
        ip: '10.0.1.7',
        containerId: 'dd44',
        serviceAccount: 'remote',
      }),
    );
    source = kubernetesSource(
      { node: 'n1', label: LABEL, kubeconfig: writeKubeconfig(dir, api.url) },
      silentLogger,
    );
    await source.start({ snapshot: (w) => (latest = w), pods: (p) => (pods = p), problem: () => {} });
  });
  afterAll(async () => {
    await source?.close();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes this node’s opted-in pods (pod or namespace label), and every pod’s identity for the resolver', () => {
    expect(ids()).toEqual(['other/x', 'web/api']);
    expect(latest.find((w) => w.id === 'web/api')).toMatchObject({
      serviceAccount: 'api',
      network: { containerId: 'aa11' },
      ips: ['10.0.0.7'],
      probePorts: [8081],
    });
    expect(peer('10.0.1.7')).toEqual({
      namespace: 'web',
      serviceAccount: 'remote',
      pod: 'remote',
      inMesh: true,
    });
    // Pod names and opt-in ride along, for Service endpoints (`targetRef`) and whether the mesh serves them.
    expect(peer('10.0.0.9')).toMatchObject({ pod: 'y', inMesh: false });
    expect(
      api.requests.some(
        (r) =>
          r.includes('fieldSelector=spec.nodeName%3Dn1') &&
          r.includes('watch=true') &&
          r.includes('allowWatchBookmarks=true'),
      ),
    ).toBe(true);
  });

  it('follows additions, label changes and deletions', async () => {
    api.put(
      'pods',
      podObject({ name: 'new', namespace: 'web', node: 'n1', ip: '10.0.0.10', containerId: 'ee55' }),
    );
    await expect.poll(ids).toEqual(['other/x', 'web/api', 'web/new']);
    api.put('namespaces', namespaceObject('other', { [LABEL]: 'enabled' }));
    await expect.poll(ids).toEqual(['other/x', 'other/y', 'web/api', 'web/new']);
    api.delete('pods', 'web', 'new');
    await expect.poll(ids).toEqual(['other/x', 'other/y', 'web/api']);
  });

  it('a sink gets the pod index once, then only the pods each event changed', async () => {
    const changes: string[][] = [];
    let first = 0;
    const second = kubernetesSource(
      { node: 'n1', label: LABEL, kubeconfig: writeKubeconfig(dir, api.url) },
      silentLogger,
    );
    try {
      await second.start({
        snapshot: () => undefined,
        pods: (p) => (first = [...p.owned()].length),
        podsChanged: (c) =>
          changes.push([...c].map((p) => `${p.name} ${p.serviceAccount}/${p.inMesh} [${p.ips.join(',')}]`)),
        problem: () => {},
      });
      expect(first).toBeGreaterThan(0);
      api.put(
        'pods',
        podObject({
          name: 'remote',
          namespace: 'web',
          node: 'n2',
          ip: '10.0.1.7',
          containerId: 'dd44',
          serviceAccount: 'remote-v2',
        }),
      );
      await expect.poll(() => changes.flat()).toContain('remote remote-v2/true [10.0.1.7]');
      expect(changes.flat()).toEqual(['remote remote-v2/true [10.0.1.7]']);
      api.delete('pods', 'web', 'remote');
      await expect.poll(() => changes.flat()).toContain('remote remote-v2/true []');
    } finally {
      await second.close();
    }
  });

  it('bookmarks keep a quiet watch current: after a restart it resumes without relisting', async () => {
    const before = lists();
    api.put(
      'pods',
      podObject({ name: 'elsewhere', namespace: 'web', node: 'n2', ip: '10.0.1.8', containerId: 'ff66' }),
    );
    await new Promise((resolve) => setTimeout(resolve, 400));
    api.compact();
    api.dropWatches();
    api.put(
      'pods',
      podObject({ name: 'after', namespace: 'web', node: 'n1', ip: '10.0.0.11', containerId: 'ab12' }),
    );
    await expect.poll(ids).toContain('web/after');
    expect(lists()).toBe(before);
  });

  it('the API server restarting and answering 410 Gone mid-watch: it relists and misses nothing', async () => {
    const before = lists();
    api.dropWatches();
    api.unavailable = true;
    api.delete('pods', 'web', 'api');
    api.put(
      'pods',
      podObject({ name: 'during', namespace: 'web', node: 'n1', ip: '10.0.0.12', containerId: 'cd34' }),
    );
    api.compact();
    await new Promise((resolve) => setTimeout(resolve, 300));
    api.unavailable = false;
    await expect.poll(ids).toEqual(['other/x', 'other/y', 'web/after', 'web/during']);
    // The every-pod watch relisted into the pod index too: the deleted pod's address is no one's.
    await expect.poll(() => peer('10.0.0.12')?.pod).toBe('during');
    expect(peer('10.0.0.7')).toBeUndefined();
    expect(lists()).toBeGreaterThan(before);
    expect(api.expired).toBeGreaterThan(0);
    expect(api.requests.some((r) => r.includes('/api/v1/pods?') && r.includes('watch=true'))).toBe(true);
  });

  it('once closed, asks the API for nothing more, even with restarts pending', async () => {
    api.unavailable = true;
    api.dropWatches();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await source.close();
    api.unavailable = false;
    const asked = api.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(api.requests.slice(asked)).toEqual([]);
  });
});
