import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describeRequiring } from '@switchyard/test-kit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeKubeApi } from './fake-kube-api.js';
import {
  debianKubectl,
  endpointSliceObject,
  namespaceObject,
  podObject,
  serviceObject,
  writeKubeconfig,
} from './kube-fixtures.js';

const kubectl = debianKubectl();
const reason = kubectl
  ? undefined
  : "Debian's kubectl is missing (scripts/system-deps.sh installs kubernetes-client)";

describeRequiring(reason, "the fake Kubernetes API, as Debian's kubectl sees it", () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-kubectl-'));
  let api: FakeKubeApi;
  let config: string;
  const run = (...args: string[]) =>
    promisify(execFile)(kubectl as string, ['--kubeconfig', config, ...args], { timeout: 15_000 });
  /** `kubectl get RESOURCE -n web --watch` as JSON events: what it printed so far, and a stop. */
  const watchInWeb = (resource: string) => {
    const args = ['--kubeconfig', config, 'get', resource, '-n', 'web', '--watch', '-o', 'json'];
    const child: ChildProcess = spawn(kubectl as string, [...args, '--output-watch-events'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
    });
    return { out: () => out, stop: () => child.kill('SIGKILL') };
  };

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
    const watch = watchInWeb('pods');
    try {
      await expect.poll(() => watch.out()).toMatch(/"name": ?"db"/);
      api.put(
        'pods',
        podObject({ name: 'cache', namespace: 'web', node: 'n1', ip: '10.0.0.9', containerId: 'cc33' }),
      );
      api.delete('pods', 'web', 'db');
      await expect.poll(() => watch.out()).toMatch(/"type": ?"DELETED"[\s\S]*"name": ?"db"/);
      expect(watch.out()).toMatch(/"type": ?"ADDED"[\s\S]*"name": ?"cache"/);
      expect(api.requests.some((r) => /\/api\/v1\/namespaces\/web\/pods\?.*watch=(true|1)/.test(r))).toBe(
        true,
      );
    } finally {
      watch.stop();
    }
  });

  it('serves services and discovery.k8s.io/v1 endpointslices: listed, fetched by name, watched', async () => {
    api.put(
      'services',
      serviceObject({
        name: 'api',
        namespace: 'web',
        clusterIP: '10.96.0.10',
        ports: [{ name: 'http', port: 80, targetPort: 'web' }],
      }),
    );
    api.put(
      'endpointslices',
      endpointSliceObject({
        name: 'api-1',
        namespace: 'web',
        service: 'api',
        ports: [{ name: 'http', port: 8080 }],
        endpoints: [{ ip: '10.0.0.7', pod: 'api', node: 'n1' }],
      }),
    );
    const svc = JSON.parse((await run('get', 'services', '-n', 'web', 'api', '-o', 'json')).stdout);
    expect(svc.spec.clusterIP).toBe('10.96.0.10');
    expect(svc.spec.ports[0].targetPort).toBe('web');
    const slices = JSON.parse(
      (
        await run(
          'get',
          'endpointslices.v1.discovery.k8s.io',
          '-A',
          '-l',
          'kubernetes.io/service-name=api',
          '-o',
          'json',
        )
      ).stdout,
    );
    expect(
      slices.items.map((s: { apiVersion: string; endpoints: { targetRef: { name: string } }[] }) => [
        s.apiVersion,
        s.endpoints[0]?.targetRef.name,
      ]),
    ).toEqual([['discovery.k8s.io/v1', 'api']]);
    const watch = watchInWeb('endpointslices.v1.discovery.k8s.io');
    try {
      await expect.poll(() => watch.out()).toMatch(/"name": ?"api-1"/);
      api.put(
        'endpointslices',
        endpointSliceObject({
          name: 'api-1',
          namespace: 'web',
          service: 'api',
          ports: [{ name: 'http', port: 8080 }],
          endpoints: [{ ip: '10.0.0.7', pod: 'api', ready: false }],
        }),
      );
      api.delete('endpointslices', 'web', 'api-1');
      await expect.poll(() => watch.out()).toMatch(/"type": ?"DELETED"[\s\S]*"name": ?"api-1"/);
      expect(watch.out()).toMatch(/"type": ?"MODIFIED"[\s\S]*"ready": ?false/);
      expect(
        api.requests.some((r) =>
          /\/apis\/discovery\.k8s\.io\/v1\/namespaces\/web\/endpointslices\?.*watch=(true|1)/.test(r),
        ),
      ).toBe(true);
    } finally {
      watch.stop();
    }
  });

  it('serves security.istio.io/v1 authorizationpolicies and peerauthentications: listed, fetched, watched', async () => {
    const policy = (action: string) => ({
      metadata: { name: 'only-client', namespace: 'web' },
      spec: { action, rules: [{ from: [{ source: { principals: ['cluster.local/ns/web/sa/client'] } }] }] },
    });
    api.put('authorizationpolicies', policy('ALLOW'));
    api.put('peerauthentications', {
      metadata: { name: 'strict', namespace: 'web' },
      spec: { mtls: { mode: 'STRICT' } },
    });
    const listed = JSON.parse(
      (await run('get', 'authorizationpolicies.security.istio.io', '-A', '-o', 'json')).stdout,
    );
    expect(
      listed.items.map((p: { apiVersion: string; kind: string; spec: { action: string } }) => [
        p.apiVersion,
        p.kind,
        p.spec.action,
      ]),
    ).toEqual([['security.istio.io/v1', 'AuthorizationPolicy', 'ALLOW']]);
    const pa = JSON.parse(
      (await run('get', 'peerauthentications.security.istio.io', '-n', 'web', 'strict', '-o', 'json')).stdout,
    );
    expect(pa.spec.mtls.mode).toBe('STRICT');
    const watch = watchInWeb('authorizationpolicies.security.istio.io');
    try {
      await expect.poll(() => watch.out(), { timeout: 10_000 }).toMatch(/"name": ?"only-client"/);
      api.put('authorizationpolicies', policy('DENY'));
      api.delete('authorizationpolicies', 'web', 'only-client');
      await expect
        .poll(() => watch.out(), { timeout: 10_000 })
        .toMatch(/"type": ?"DELETED"[\s\S]*"name": ?"only-client"/);
      expect(watch.out()).toMatch(/"type": ?"MODIFIED"[\s\S]*"action": ?"DENY"/);
    } finally {
      watch.stop();
    }
  });
});
