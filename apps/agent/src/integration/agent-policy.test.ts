import { mkdtempSync, rmSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetnsTarget } from '@switchyard/core';
import { DataPlane, silentLogger } from '@switchyard/dataplane';
import { tproxyDriver } from '@switchyard/driver-tproxy';
import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { hboneCarrier } from '@switchyard/hbone';
import { CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PeerIdentities } from '../identity/peer-identities.js';
import { type Explanation, explain } from '../policy/explain.js';
import { PolicyAuthorizer } from '../policy/policy-authorizer.js';
import { PolicyStore } from '../policy/policy-store.js';
import { type PolicyWatch, policyWatch } from '../policy/policy-watch.js';
import { kubeConfig, kubernetesSource } from '../sources/kubernetes-source.js';
import type { WorkloadSource } from '../sources/workload.js';
import { FakeKubeApi } from '../testing/fake-kube-api.js';
import { namespaceObject, podObject, writeKubeconfig } from '../testing/kube-fixtures.js';
import { createPodFabric, type PodFabric } from '../testing/pod-fabric.js';

/** Mesh clients (their sidecars on n1), the server api (its sidecar on n2), and a client outside the mesh. */
const PODS = { client: 'client', evil: 'evil', api: 'api', outsider: 'outsider' } as const;
type PodName = keyof typeof PODS;
const OPT_IN = 'switchyard.io/capture';

describePrivileged(
  'Istio policies from the API, enforced by the receiving data plane through real namespaces; explain agrees',
  () => {
    const driver = tproxyDriver();
    const ops = driver.socketOps;
    const dir = mkdtempSync(join(tmpdir(), 'swy-policy-'));
    let fabric: PodFabric;
    let pki: TestPki;
    let api: FakeKubeApi;
    let source: WorkloadSource;
    let watch: PolicyWatch;
    const planes: DataPlane[] = [];
    const servers: Server[] = [];
    /** Connections the api app accepted, per port: a denied peer must add none. */
    const accepted = new Map<number, number>();
    const store = new PolicyStore({
      rootNamespace: 'istio-system',
      defaultMtls: 'STRICT',
      logger: silentLogger,
    });
    let authorizer: PolicyAuthorizer;
    let server: DataPlane;
    const peers = new PeerIdentities('cluster.local', () => []);
    const ns = (pod: PodName): NetnsTarget => ({ kind: 'netns', name: fabric.pods[pod]?.netns as string });
    const ip = (pod: PodName) => fabric.pods[pod]?.ip as string;

    /** `pod` connects to api:port (captured where the pod has a sidecar); the first line it reads, or how it ended. */
    async function ask(pod: PodName, port: number): Promise<string> {
      const socket = await ops.dial({ destination: { address: ip('api'), port }, mark: 0, target: ns(pod) });
      socket.on('error', () => undefined);
      return new Promise<string>((resolve) => {
        let text = '';
        const done = (why: string) => {
          clearTimeout(timer);
          socket.destroy();
          resolve(why);
        };
        const timer = setTimeout(() => done('timeout'), 5000);
        socket.on('data', (d) => {
          text += d;
          if (text.includes('\n')) done(text.split('\n')[0] as string);
        });
        socket.once('end', () => done(text || 'closed'));
        socket.once('close', () => done(text || 'closed'));
      });
    }
    const why = (from: string, port: number): Explanation =>
      explain(
        from,
        `web/api:${port}`,
        {
          workloads: () => [
            { id: 'web/api', addresses: [ip('api')], spiffeId: 'spiffe://cluster.local/ns/web/sa/api' },
          ],
          identityOf: (address) => peers.expected(address)?.[0],
          pod: (id) => peers.pod(id),
        },
        authorizer,
      );
    const put = (kind: 'authorizationpolicies' | 'peerauthentications', name: string, spec: unknown) =>
      api.put(kind, { metadata: { name, namespace: 'web' }, spec });
    const metrics = () => server.metrics.registry.metrics();

    beforeAll(async () => {
      fabric = createPodFabric(Object.keys(PODS));
      pki = await createTestPki();
      api = await new FakeKubeApi({ bookmarkMs: 300 }).start();
      api.put('namespaces', namespaceObject('web', { [OPT_IN]: 'enabled' }));
      for (const name of ['client', 'evil', 'api'] as const)
        api.put(
          'pods',
          podObject({
            name,
            namespace: 'web',
            node: name === 'api' ? 'n2' : 'n1',
            ip: ip(name),
            serviceAccount: name,
            labels: { app: name },
          }),
        );
      put('authorizationpolicies', 'allow-client', {
        selector: { matchLabels: { app: 'api' } },
        action: 'ALLOW',
        rules: [{ from: [{ source: { principals: ['cluster.local/ns/web/sa/client'] } }] }],
      });
      const kubeconfig = writeKubeconfig(dir, api.url);
      source = kubernetesSource({ node: 'n2', label: OPT_IN, kubeconfig }, silentLogger);
      await source.start({
        snapshot: () => undefined,
        peers: (map) => peers.replace(map),
        problem: (reason) => {
          throw new Error(reason);
        },
      });
      watch = policyWatch(await kubeConfig(kubeconfig), store, silentLogger);
      await watch.start();
      const options = {
        socketOps: ops,
        identities: peers,
        logger: silentLogger,
        timeouts: { connect: 2000, handshake: 2000, drain: 0 },
      };
      const clients = new DataPlane(options);
      server = new DataPlane({ ...options, authorizer: { authorize: (r) => authorizer.authorize(r) } });
      authorizer = new PolicyAuthorizer(store, server.metrics.registry);
      authorizer.setWorkloads([{ id: 'web/api', namespace: 'web', labels: { app: 'api' } }]);
      planes.push(clients, server);
      for (const pod of ['client', 'evil'] as const) {
        await driver.apply(ns(pod), { families: ['ipv4'], outbound: { port: 15001 } });
        await clients.addWorkload({
          id: `web/${pod}`,
          target: ns(pod),
          identity: await CertificateStore.open(await pki.issue(pod, 'web', pod), { watch: false }),
          carrier: hboneCarrier(),
          addresses: [ip(pod)],
          policy: { outbound: { port: 15001, families: ['ipv4'], meshCidrs: [fabric.subnet] }, ports: {} },
        });
      }
      await driver.apply(ns('api'), { families: ['ipv4'], inbound: { port: 15006, excludePorts: [15008] } });
      await server.addWorkload({
        id: 'web/api',
        target: ns('api'),
        identity: await CertificateStore.open(await pki.issue('api', 'web', 'api'), { watch: false }),
        carrier: hboneCarrier(),
        addresses: [ip('api')],
        policy: {
          inbound: { port: 15006, families: ['ipv4'], preserveSource: false },
          ports: { hbone: 15008 },
        },
      });
      for (const port of [8080, 9090]) {
        const app = await ops.listen({ port, family: 'ipv4', target: ns('api') });
        app.on('connection', (s: Socket) => {
          s.on('error', () => undefined);
          accepted.set(port, (accepted.get(port) ?? 0) + 1);
          s.end(`api:${port}\n`);
        });
        servers.push(app);
      }
    }, 60_000);

    afterAll(async () => {
      await watch?.stop();
      await source?.close();
      await Promise.all(planes.map((p) => p.close(0)));
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
      for (const pod of ['client', 'evil', 'api'] as const)
        if (fabric?.pods[pod]) await driver.remove(ns(pod));
      await api?.close();
      fabric?.destroy();
      await pki?.dispose();
      rmSync(dir, { recursive: true, force: true });
    }, 30_000);

    it('the principal the ALLOW policy names gets through over HBONE, and explain says which policy allowed it', async () => {
      expect(await ask('client', 8080)).toBe('api:8080');
      expect(why('web/client', 8080)).toMatchObject({ allowed: true, policy: 'web/allow-client' });
    });

    it('another principal is denied: zero bytes reach the app, the denial is counted, explain agrees', async () => {
      const before = accepted.get(8080) ?? 0;
      for (let n = 0; n < 2; n++) expect(await ask('evil', 8080)).toBe('closed');
      expect(accepted.get(8080) ?? 0).toBe(before);
      expect(await metrics()).toMatch(
        /switchyard_agent_policy_denials_total\{workload="web\/api",policy="no-allow-matched"\} 2/,
      );
      expect(why('web/evil', 8080)).toMatchObject({
        allowed: false,
        reason: 'no ALLOW policy matches (web/allow-client apply)',
      });
    });

    it('a DENY on a port refuses that port only, counted by the policy’s name; explain agrees', async () => {
      put('authorizationpolicies', 'deny-9090', {
        action: 'DENY',
        rules: [{ to: [{ operation: { ports: ['9090'] } }] }],
      });
      await expect.poll(() => why('web/client', 9090).allowed, { timeout: 2000 }).toBe(false);
      expect(await ask('client', 9090)).toBe('closed');
      expect(accepted.get(9090) ?? 0).toBe(0);
      expect(await ask('client', 8080)).toBe('api:8080');
      expect(why('web/client', 9090)).toMatchObject({ allowed: false, policy: 'web/deny-9090' });
      expect(why('web/client', 8080)).toMatchObject({ allowed: true, policy: 'web/allow-client' });
      expect(await metrics()).toMatch(
        /switchyard_agent_policy_denials_total\{workload="web\/api",policy="web\/deny-9090"\} 1/,
      );
    });

    it('a policy removed: the peer it kept out gets through within 1 s of the delete', async () => {
      const removed = Date.now();
      api.delete('authorizationpolicies', 'web', 'allow-client');
      let line = '';
      while (Date.now() - removed < 1000 && line !== 'api:8080') {
        line = await ask('evil', 8080);
        if (line !== 'api:8080') await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(line).toBe('api:8080');
      expect(Date.now() - removed).toBeLessThan(1000);
      expect(why('web/evil', 8080)).toMatchObject({ allowed: true });
      api.delete('authorizationpolicies', 'web', 'deny-9090');
    });

    it('PERMISSIVE lets a plain-TCP client from outside the mesh through on a captured port; STRICT refuses it; explain agrees', async () => {
      // The agent's default here is STRICT: without a PeerAuthentication, plain TCP is refused.
      expect(await ask('outsider', 8080)).toBe('closed');
      expect(why(ip('outsider'), 8080)).toMatchObject({
        allowed: false,
        policy: 'istio-system/(default STRICT)',
      });
      put('peerauthentications', 'mtls', { mtls: { mode: 'PERMISSIVE' } });
      await expect.poll(() => why(ip('outsider'), 8080).allowed, { timeout: 2000 }).toBe(true);
      const before = accepted.get(8080) ?? 0;
      expect(await ask('outsider', 8080)).toBe('api:8080');
      expect(accepted.get(8080)).toBe(before + 1);
      put('peerauthentications', 'mtls', { mtls: { mode: 'STRICT' } });
      await expect.poll(() => why(ip('outsider'), 8080).allowed, { timeout: 2000 }).toBe(false);
      expect(await ask('outsider', 8080)).toBe('closed');
      expect(accepted.get(8080)).toBe(before + 1);
      expect(why(ip('outsider'), 8080)).toMatchObject({ allowed: false, policy: 'web/mtls' });
      expect(why(ip('outsider'), 8080).from.peer).toBeUndefined();
      // Mesh peers are not plain TCP: STRICT lets them through.
      expect(await ask('client', 8080)).toBe('api:8080');
      expect(await metrics()).toMatch(
        /switchyard_agent_policy_denials_total\{workload="web\/api",policy="web\/mtls"\} 1/,
      );
    });
  },
);
