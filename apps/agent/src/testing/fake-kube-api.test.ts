import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeKubeApi } from './fake-kube-api.js';
import { debianKubectl, namespaceObject, podObject, writeKubeconfig } from './kube-fixtures.js';

const kubectl = debianKubectl();
const reason = kubectl
  ? undefined
  : "Debian's kubectl is missing (scripts/system-deps.sh installs kubernetes-client)";

// Outside CI a missing kubectl skips with the reason; in CI it fails.
describe.skipIf(!!reason && !process.env.CI)(
  `the fake Kubernetes API, as Debian's kubectl sees it${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'swy-kubectl-'));
    let api: FakeKubeApi;
    let config: string;
    const run = (...args: string[]) =>
      promisify(execFile)(kubectl as string, ['--kubeconfig', config, ...args], { timeout: 15_000 });

    beforeAll(async () => {
      if (!kubectl) throw new Error(`cannot run in CI: ${reason}`);
      api = await new FakeKubeApi({ bookmarkMs: 200 }).start();
      config = writeKubeconfig(dir, api.url);
      api.put('namespaces', namespaceObject('web', { 'switchyard.io/capture': 'enabled' }));
      api.put(
        'pods',
        podObject({ name: 'api', namespace: 'web', node: 'n1', ip: '10.0.0.7', containerId: 'aa11' }),
      );
      api.put(
        'pods',
        podObject({
          name: 'db',
          namespace: 'web',
          node: 'n2',
          ip: '10.0.0.8',
          containerId: 'bb22',
          labels: { tier: 'data' },
        }),
      );
    });
    afterAll(async () => {
      await api?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('lists pods with field and label selectors, and namespaces', async () => {
      const all = JSON.parse((await run('get', 'pods', '-A', '-o', 'json')).stdout);
      expect(all.items.map((p: { metadata: { name: string } }) => p.metadata.name).sort()).toEqual([
        'api',
        'db',
      ]);
      const onNode = await run('get', 'pods', '-A', '--field-selector', 'spec.nodeName=n1', '-o', 'name');
      expect(onNode.stdout.trim()).toBe('pod/api');
      const labelled = await run('get', 'pods', '-n', 'web', '-l', 'tier in (data,cache)', '-o', 'name');
      expect(labelled.stdout.trim()).toBe('pod/db');
      const ns = JSON.parse((await run('get', 'namespace', 'web', '-o', 'json')).stdout);
      expect(ns.metadata.labels).toEqual({ 'switchyard.io/capture': 'enabled' });
    });

    it('watches pods from the list’s resourceVersion: additions, changes and deletions arrive', async () => {
      const child: ChildProcess = spawn(
        kubectl as string,
        [
          '--kubeconfig',
          config,
          'get',
          'pods',
          '-n',
          'web',
          '--watch',
          '-o',
          'json',
          '--output-watch-events',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stdout?.on('data', (d) => (out += d));
      try {
        await expect.poll(() => out, { timeout: 10_000 }).toMatch(/"name": ?"db"/);
        api.put(
          'pods',
          podObject({ name: 'cache', namespace: 'web', node: 'n1', ip: '10.0.0.9', containerId: 'cc33' }),
        );
        api.delete('pods', 'web', 'db');
        await expect.poll(() => out, { timeout: 10_000 }).toMatch(/"type": ?"DELETED"[\s\S]*"name": ?"db"/);
        expect(out).toMatch(/"type": ?"ADDED"[\s\S]*"name": ?"cache"/);
        expect(api.requests.some((r) => /\/api\/v1\/namespaces\/web\/pods\?.*watch=(true|1)/.test(r))).toBe(
          true,
        );
      } finally {
        child.kill('SIGKILL');
      }
    });
  },
);
