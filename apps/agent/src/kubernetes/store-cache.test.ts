import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { silentLogger } from '@switchyard/dataplane';
import { afterAll, describe, expect, it } from 'vitest';
import { PodIndex } from '../sources/pod-index.js';
import { FakeKubeApi } from '../testing/fake-kube-api.js';
import { podObject, writeKubeconfig } from '../testing/kube-fixtures.js';
import { kubeConfig } from './kube-config.js';
import { type Informer, informer } from './kube-informer.js';

describe('an informer keeping its objects in the caller’s store (the pod index), not a cache of its own', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-store-'));
  let api: FakeKubeApi | undefined;
  let pods: Informer<V1Pod> | undefined;
  afterAll(async () => {
    await pods?.stop();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists, follows the watch, and after 410 Gone relists and diffs against the store: deletes, adds and updates only what changed', async () => {
    api = await new FakeKubeApi({ bookmarkMs: 100 }).start();
    const put = (name: string, namespace: string, ip: string, serviceAccount = name) =>
      api?.put('pods', podObject({ name, namespace, node: 'n2', ip, serviceAccount }));
    put('a', 'web', '10.0.0.1');
    put('b', 'web', '10.0.0.2');
    put('x', 'other', '10.0.1.1');
    put('keep', 'web', '10.0.0.5');
    const index = new PodIndex({ label: 'switchyard.io/capture', value: 'enabled' });
    const seen: string[] = [];
    pods = await informer<V1Pod>(
      await kubeConfig(writeKubeconfig(dir, api.url)),
      '/api/v1/pods',
      (event, p) => {
        seen.push(`${event} ${p.metadata?.namespace}/${p.metadata?.name}`);
        if (event === 'delete') index.deletePod(p, new Set());
        else index.upsertPod(p, new Set());
      },
      silentLogger,
      undefined,
      { store: index },
    );
    await pods.start();
    expect(seen.sort()).toEqual(['add other/x', 'add web/a', 'add web/b', 'add web/keep']);
    expect(index.size).toBe(4);
    // The informer's own list is read from the store: names and versions, nothing else kept.
    expect(pods.list().map((p) => p.metadata)).toContainEqual({
      name: 'x',
      namespace: 'other',
      resourceVersion: index.version('other', 'x'),
    });

    // Through the watch: a change, a deletion.
    seen.length = 0;
    put('a', 'web', '10.0.0.1', 'a-v2');
    api.delete('pods', 'web', 'b');
    await expect.poll(() => seen).toEqual(['update web/a', 'delete web/b']);
    expect(index.get('web', 'a')?.serviceAccount).toBe('a-v2');

    // The API server restarts and forgets its history: what happened meanwhile comes from a relist
    // (and `keep`, listed again at the same version, is no update).
    seen.length = 0;
    api.unavailable = true;
    api.dropWatches();
    api.delete('pods', 'other', 'x');
    put('c', 'web', '10.0.0.3');
    put('a', 'web', '10.0.0.9', 'a-v2');
    api.compact();
    await new Promise((resolve) => setTimeout(resolve, 300));
    api.unavailable = false;
    await expect
      .poll(() => [...seen].sort(), { timeout: 15_000 })
      .toEqual(['add web/c', 'delete other/x', 'update web/a']);
    expect(api.expired).toBeGreaterThan(0);
    expect([...index.namespaces()]).toEqual(['web']);
    expect([...index.owned()].map(([ip, p]) => `${ip} ${p.name}`).sort()).toEqual([
      '10.0.0.3 c',
      '10.0.0.5 keep',
      '10.0.0.9 a',
    ]);
    // And it keeps watching after the relist.
    put('d', 'web', '10.0.0.4');
    await expect.poll(() => seen).toContain('add web/d');
    expect(index.ownerOf('10.0.0.4')?.name).toBe('d');
  }, 30_000);
});
