import { mkdtempSync, rmSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Namespace } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeKubeApi } from '../testing/fake-kube-api.js';
import { namespaceObject, writeKubeconfig } from '../testing/kube-fixtures.js';
import { loadKubeClient } from './kube-client.js';
import { kubeGet } from './kube-get.js';

describe('@kubernetes/client-node loaded light', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-kube-client-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('KubeConfig, Watch and ListWatch load without the generated API index or any model', async () => {
    // Registered after the agent's hook, so it sees every resolution first (and changes none).
    const loaded: string[] = [];
    const recorder = registerHooks({
      resolve(specifier, context, next) {
        const result = next(specifier, context);
        if (result.url.includes('/@kubernetes/client-node/')) loaded.push(result.url);
        return result;
      },
    });
    try {
      const k8s = await loadKubeClient();
      expect([typeof k8s.KubeConfig, typeof k8s.Watch, typeof k8s.ListWatch]).toEqual([
        'function',
        'function',
        'function',
      ]);
    } finally {
      recorder.deregister();
    }
    const files = loaded.map((url) => url.replace(/^.*\/@kubernetes\/client-node\/dist\//, ''));
    expect(files).toEqual(
      expect.arrayContaining(['config.js', 'watch.js', 'cache.js', 'gen/configuration.js']),
    );
    expect(files.filter((f) => /^gen\/(index|models\/|apis\/(?!exception)|types\/)/.test(f))).toEqual([]);
    expect(files).not.toContain('serializer.js');
  });

  it('a GET reads JSON as JSON (no model objects), and a refusal is the library’s ApiException with the status', async () => {
    const api = await new FakeKubeApi({ bookmarkMs: 1000 }).start();
    try {
      api.put('namespaces', namespaceObject('web', { team: 'a' }));
      const k8s = await loadKubeClient();
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(writeKubeconfig(dir, api.url));
      const list = await kubeGet<{ items: V1Namespace[] }>(kc, '/api/v1/namespaces', { limit: 10 });
      expect(list.items.map((n) => n.metadata?.labels)).toEqual([{ team: 'a' }]);
      expect(Object.getPrototypeOf(list.items[0])).toBe(Object.prototype);
      await expect(kubeGet(kc, '/api/v1/namespaces/nowhere')).rejects.toMatchObject({
        name: 'Error',
        code: 404,
      });
    } finally {
      await api.close();
    }
  });
});
