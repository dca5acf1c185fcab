import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Namespace } from '@kubernetes/client-node';
import { silentLogger } from '@switchyard/dataplane';
import { afterAll, describe, expect, it } from 'vitest';
import { kubeConfig } from '../kubernetes/kube-config.js';
import { FakeKubeApi } from '../testing/fake-kube-api.js';
import { namespaceObject, writeKubeconfig } from '../testing/kube-fixtures.js';
import { type Informer, informer } from './kube-informer.js';

describe('an informer that lost its API server after the first list', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-informer-'));
  let api: FakeKubeApi | undefined;
  let watch: Informer<V1Namespace> | undefined;
  afterAll(async () => {
    await watch?.stop();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('backs off 250 ms doubling (not a retry every few hundred ms forever), and resets once a watch works again', async () => {
    api = await new FakeKubeApi({ bookmarkMs: 100 }).start();
    api.put('namespaces', namespaceObject('web'));
    const kc = await kubeConfig(writeKubeconfig(dir, api.url));
    const seen: string[] = [];
    watch = await informer<V1Namespace>(
      kc,
      '/api/v1/namespaces',
      (event, o) => seen.push(`${event} ${o.metadata?.name}`),
      silentLogger,
    );
    await watch.start();
    expect(seen).toEqual(['add web']);
    // The API server goes away: every request is refused from now on.
    const from = api.requests.length;
    const started = Date.now();
    api.unavailable = true;
    api.dropWatches();
    await new Promise((resolve) => setTimeout(resolve, 4_500));
    const attempts = api.requests.length - from;
    // 250 + 500 + 1000 + 2000 ms (less up to 20% jitter) fit in 4.5 s: at most 5 attempts, where
    // a retry every 200–500 ms would make 9 or more.
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(attempts).toBeLessThanOrEqual(5);
    // Back again: the watch resumes, a change arrives, and the backoff starts over.
    api.unavailable = false;
    api.put('namespaces', namespaceObject('late'));
    await expect.poll(() => seen, { timeout: 20_000 }).toContain('add late');
    expect(Date.now() - started).toBeGreaterThan(4_500);
    api.unavailable = true;
    api.dropWatches();
    const again = api.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 700));
    // After a working watch the first retry comes within 250 ms again, not after the grown delay.
    expect(api.requests.length - again).toBeGreaterThanOrEqual(1);
  }, 40_000);

  it('retries on the configured retry settings, not a backoff of its own', async () => {
    const api2 = await new FakeKubeApi({ bookmarkMs: 100 }).start();
    let quick: Informer<V1Namespace> | undefined;
    try {
      api2.put('namespaces', namespaceObject('web'));
      const kc = await kubeConfig(writeKubeconfig(dir, api2.url));
      quick = await informer<V1Namespace>(
        kc,
        '/api/v1/namespaces',
        () => undefined,
        silentLogger,
        undefined,
        {
          retry: { initialMs: 100, maxMs: 100 },
        },
      );
      await quick.start();
      const from = api2.requests.length;
      api2.unavailable = true;
      api2.dropWatches();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      // Every 80–100 ms: 10 or more in 1.5 s, where the default (250 ms doubling) makes at most 4.
      expect(api2.requests.length - from).toBeGreaterThanOrEqual(10);
    } finally {
      await quick?.stop();
      await api2.close();
    }
  });

  it('lists in pages of 500, and keeps only what the transform keeps', async () => {
    const paged = await new FakeKubeApi({ bookmarkMs: 100 }).start();
    try {
      for (let n = 0; n < 1_201; n++) paged.put('namespaces', namespaceObject(`ns-${n}`, { a: 'x', b: 'y' }));
      const kc = await kubeConfig(writeKubeconfig(dir, paged.url));
      let added = 0;
      const all = await informer<V1Namespace>(
        kc,
        '/api/v1/namespaces',
        () => added++,
        silentLogger,
        undefined,
        {
          transform: (n) => ({
            metadata: {
              name: n.metadata?.name,
              resourceVersion: n.metadata?.resourceVersion,
              labels: { a: n.metadata?.labels?.a ?? '' },
            },
          }),
        },
      );
      await all.start();
      await all.stop();
      expect(paged.pages).toBe(3);
      expect(added).toBe(1_201);
      expect(all.list()).toHaveLength(1_201);
      expect(all.list()[0]?.metadata).toEqual({
        name: 'ns-0',
        resourceVersion: expect.any(String),
        labels: { a: 'x' },
      });
    } finally {
      await paged.close();
    }
  });
});
