import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetnsTarget } from '@switchyard/core';
import { CHANNELS, DataPlane, silentLogger } from '@switchyard/dataplane';
import { tproxyDriver } from '@switchyard/driver-tproxy';
import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { hboneCarrier } from '@switchyard/hbone';
import { CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PeerIdentities } from '../identity/peer-identities.js';
import { kubeConfig } from '../kubernetes/kube-config.js';
import { ServiceDirectory } from '../services/service-directory.js';
import { type ServiceWatch, serviceWatch } from '../services/service-watch.js';
import { kubernetesSource } from '../sources/kubernetes-source.js';
import type { WorkloadSource } from '../sources/workload.js';
import { FakeKubeApi } from '../testing/fake-kube-api.js';
import { firstLine } from '../testing/first-line.js';
import {
  endpointSliceObject,
  namespaceObject,
  podObject,
  type SliceEndpoint,
  serviceObject,
  writeKubeconfig,
} from '../testing/kube-fixtures.js';
import { createPodFabric, type PodFabric } from '../testing/pod-fabric.js';
import { promptly } from '../testing/promptly.js';

/** The pods: name → node, service account in the pod object, the one its sidecar's certificate names. */
const PODS = {
  client: { node: 'n1', sa: 'client' },
  api1: { node: 'n1', sa: 'api' },
  api2: { node: 'n2', sa: 'api-v2' },
  api3: { node: 'n2', sa: 'api' },
  evil: { node: 'n2', sa: 'api', cert: 'mallory' },
  dead: { node: 'n2', sa: 'api' },
  legacy: { node: 'n2', sa: 'legacy' },
} as const;
type PodName = keyof typeof PODS;
/** Pods whose sidecar (an HBONE listener on 15008) runs, and on which node's data plane. */
const SIDECARS: Record<string, PodName[]> = { n1: ['client', 'api1'], n2: ['api2', 'api3', 'evil'] };
/** App ports per pod; each app answers `pod:port` and then echoes. */
const APPS: [PodName, number][] = [
  ['api1', 8080],
  ['api2', 8080],
  ['api2', 9090],
  ['api3', 8080],
  ['evil', 8080],
  ['legacy', 8080],
];
const VIP = {
  api: '10.96.17.10',
  named: '10.96.17.11',
  evil: '10.96.17.12',
  flaky: '10.96.17.13',
  legacy: '10.96.17.14',
};
const OPT_IN = 'switchyard.io/capture';

describePrivileged(
  'Kubernetes Services in the mesh: ClusterIP → a ready endpoint over HBONE, its identity pinned',
  () => {
    const driver = tproxyDriver();
    const ops = driver.socketOps;
    const ns = (pod: PodName): NetnsTarget => ({ kind: 'netns', name: fabric.pods[pod]?.netns as string });
    const dir = mkdtempSync(join(tmpdir(), 'swy-services-'));
    let fabric: PodFabric;
    let pki: TestPki;
    let api: FakeKubeApi;
    let source: WorkloadSource;
    let watch: ServiceWatch;
    const planes: Record<string, DataPlane> = {};
    const servers: Server[] = [];
    const appSockets = new Map<string, Socket[]>();
    const directory = new ServiceDirectory('cluster.local');
    /** The endpoints the directory gives for the api Service's ClusterIP, if it is one now. */
    const apiEndpoints = () => {
      const found = directory.resolve({ address: VIP.api, port: 80 });
      return found?.kind === 'service' ? found.endpoints : undefined;
    };
    const events: { workload: string; direction: string; outcome: string; code?: string; peer?: string }[] =
      [];
    const onEvent = (e: unknown) => events.push(e as (typeof events)[number]);
    const ip = (pod: PodName) => fabric.pods[pod]?.ip as string;
    const metrics = (node: string) => planes[node]?.metrics.registry.metrics() as Promise<string>;

    const slice = (name: string, service: string, endpoints: SliceEndpoint[], port = 8080) =>
      endpointSliceObject({ name, namespace: 'web', service, ports: [{ name: 'http', port }], endpoints });
    const at = (pod: PodName, more: Partial<SliceEndpoint> = {}): SliceEndpoint => ({
      ip: ip(pod),
      pod,
      node: PODS[pod].node,
      ...more,
    });
    const service = (name: string, clusterIP: string, targetPort: number | string = 8080) =>
      serviceObject({ name, namespace: 'web', clusterIP, ports: [{ name: 'http', port: 80, targetPort }] });

    /** The client pod connects (captured: no mark); resolves with the first line it reads, or how it ended. */
    async function ask(address: string, port = 80, keep = false): Promise<{ line: string; socket: Socket }> {
      const socket = await ops.dial({ destination: { address, port }, mark: 0, target: ns('client') });
      socket.on('error', () => undefined);
      const line = await firstLine(socket);
      if (!keep) socket.destroy();
      return { line, socket };
    }

    async function startApp(pod: PodName, port: number): Promise<void> {
      const server = await ops.listen({ port, family: 'ipv4', target: ns(pod) });
      server.on('connection', (s: Socket) => {
        s.on('error', () => undefined);
        appSockets.set(pod, [...(appSockets.get(pod) ?? []), s]);
        s.write(`${pod}:${port}\n`);
        s.on('data', (d) => s.write(d));
        s.on('end', () => s.end());
      });
      servers.push(server);
    }

    async function startSidecar(node: string, pod: PodName): Promise<void> {
      const p = PODS[pod];
      const certs = await pki.issue(pod, 'web', 'cert' in p ? p.cert : p.sa);
      const client = pod === 'client';
      await planes[node]?.addWorkload({
        id: `web/${pod}`,
        target: ns(pod),
        identity: await CertificateStore.open(certs, { watch: false }),
        carrier: hboneCarrier(),
        addresses: [ip(pod)],
        policy: client
          ? { outbound: { port: 15001, families: ['ipv4'], meshCidrs: [fabric.subnet] }, ports: {} }
          : { inbound: { families: ['ipv4'], preserveSource: false }, ports: { hbone: 15008 } },
      });
    }

    beforeAll(async () => {
      fabric = createPodFabric(Object.keys(PODS));
      pki = await createTestPki();
      api = await new FakeKubeApi({ bookmarkMs: 500 }).start();
      api.put('namespaces', namespaceObject('web', { [OPT_IN]: 'enabled' }));
      for (const [name, p] of Object.entries(PODS))
        api.put(
          'pods',
          podObject({
            name,
            namespace: 'web',
            node: p.node,
            ip: ip(name as PodName),
            serviceAccount: p.sa,
            ...(name === 'legacy' ? { labels: { [OPT_IN]: 'disabled' } } : {}),
          }),
        );
      api.put('services', service('api', VIP.api));
      api.put(
        'endpointslices',
        slice('api-1', 'api', [at('api1'), at('api2'), at('api3', { ready: false })]),
      );
      api.put('services', service('named', VIP.named, 'web'));
      api.put('endpointslices', slice('named-1', 'named', [at('api1')], 8080));
      api.put('endpointslices', slice('named-2', 'named', [at('api2')], 9090));
      api.put('services', service('evil', VIP.evil));
      api.put('endpointslices', slice('evil-1', 'evil', [at('evil')]));
      api.put('services', service('flaky', VIP.flaky));
      api.put('endpointslices', slice('flaky-1', 'flaky', [at('dead'), at('api1')]));
      api.put('services', service('legacy', VIP.legacy));
      api.put('endpointslices', slice('legacy-1', 'legacy', [at('legacy')]));
      api.put('services', service('headless', 'None'));
      api.put('endpointslices', slice('headless-1', 'headless', [at('api1')]));

      // What the agent builds: the pod watch fills the identities and the directory's pods; the Service watch the rest.
      const kubeconfig = writeKubeconfig(dir, api.url);
      const peers = new PeerIdentities('cluster.local', () => []);
      source = kubernetesSource({ node: 'n1', label: OPT_IN, kubeconfig }, silentLogger);
      await source.start({
        snapshot: () => undefined,
        pods: (index) => {
          peers.follow(index);
          directory.pods(index);
        },
        podsChanged: (changed) => directory.podsChanged(changed),
        problem: (reason) => {
          throw new Error(reason);
        },
      });
      watch = serviceWatch(await kubeConfig(kubeconfig), directory, silentLogger);
      await watch.start();
      for (const node of Object.keys(SIDECARS))
        planes[node] = new DataPlane({
          socketOps: ops,
          identities: peers,
          destinations: directory,
          logger: silentLogger,
          timeouts: { connect: 2000, handshake: 2000, drain: 0 },
        });
      await driver.apply(ns('client'), { families: ['ipv4'], outbound: { port: 15001 } });
      for (const [node, pods] of Object.entries(SIDECARS))
        for (const pod of pods) await startSidecar(node, pod);
      for (const [pod, port] of APPS) await startApp(pod, port);
      subscribe(CHANNELS.connection, onEvent);
    }, 60_000);

    afterAll(async () => {
      unsubscribe(CHANNELS.connection, onEvent);
      await watch?.stop();
      await source?.close();
      await Promise.all(Object.values(planes).map((p) => p.close(0)));
      for (const sockets of appSockets.values()) for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
      await api?.close();
      fabric?.destroy();
      await pki?.dispose();
      rmSync(dir, { recursive: true, force: true });
    }, 30_000);

    it('traffic to the ClusterIP reaches every ready endpoint, on both nodes, over HBONE; the not-ready one gets nothing', async () => {
      const seen = new Map<string, number>();
      for (let n = 0; n < 12; n++) {
        const { line } = await ask(VIP.api);
        seen.set(line, (seen.get(line) ?? 0) + 1);
      }
      expect([...seen.keys()].sort()).toEqual(['api1:8080', 'api2:8080']);
      expect(appSockets.get('api3') ?? []).toHaveLength(0);
      // Each endpoint's sidecar took them on its HBONE listener, from the client's identity.
      const inbound = () => events.filter((e) => e.direction === 'inbound' && e.outcome === 'spliced');
      await expect.poll(() => inbound().length).toBe(12);
      expect(new Set(inbound().map((e) => e.workload))).toEqual(new Set(['web/api1', 'web/api2']));
      expect(new Set(inbound().map((e) => e.peer))).toEqual(
        new Set(['spiffe://cluster.local/ns/web/sa/client']),
      );
      expect(await metrics('n1')).toMatch(/switchyard_service_requests_total\{service="web\/api"\} 12/);
      expect(await metrics('n2')).toMatch(
        /switchyard_connections_total\{workload="web\/api2",carrier="hbone",direction="inbound",outcome="spliced"\} [1-9]/,
      );
    });

    it('each endpoint’s own identity is pinned (api1 as sa/api, api2 as sa/api-v2), and status shows them', () => {
      const report = directory.report('web/api');
      const endpoints = report?.ports[0]?.endpoints.map((e) => [e.pod, e.port, e.ready, e.identity]);
      expect(endpoints).toEqual([
        ['web/api1', 8080, true, 'spiffe://cluster.local/ns/web/sa/api'],
        ['web/api2', 8080, true, 'spiffe://cluster.local/ns/web/sa/api-v2'],
        ['web/api3', 8080, false, 'spiffe://cluster.local/ns/web/sa/api'],
      ]);
      expect(apiEndpoints()?.map((e) => e.identities[0])).toEqual([
        'spiffe://cluster.local/ns/web/sa/api',
        'spiffe://cluster.local/ns/web/sa/api-v2',
      ]);
    });

    it('a Service with a named target port reaches each endpoint on the port its slice names', async () => {
      const seen = new Set<string>();
      for (let n = 0; n < 8; n++) seen.add((await ask(VIP.named)).line);
      expect([...seen].sort()).toEqual(['api1:8080', 'api2:9090']);
    });

    it('a headless Service has no virtual address: its pod is reached at its own address over HBONE, as before', async () => {
      expect(directory.report('web/headless')?.headless).toBe(true);
      expect(directory.resolve({ address: ip('api1'), port: 8080 })).toBeUndefined();
      const before = events.filter((e) => e.workload === 'web/api1' && e.direction === 'inbound').length;
      expect((await ask(ip('api1'), 8080)).line).toBe('api1:8080');
      await expect
        .poll(() => events.filter((e) => e.workload === 'web/api1' && e.direction === 'inbound').length)
        .toBeGreaterThan(before);
    });

    it('an endpoint whose sidecar presents another identity is refused and counted; its app gets nothing', async () => {
      for (let n = 0; n < 3; n++) expect((await ask(VIP.evil)).line).toBe('closed');
      expect(appSockets.get('evil') ?? []).toHaveLength(0);
      const text = await metrics('n1');
      expect(text).toMatch(
        /switchyard_authorization_denials_total\{workload="web\/client",carrier="hbone",direction="outbound",reason="unexpected-identity"\} 3/,
      );
      expect(text).toMatch(
        /switchyard_service_failures_total\{service="web\/evil",reason="unexpected-identity"\} 3/,
      );
      expect(text).not.toMatch(/switchyard_service_endpoint_retries_total\{service="web\/evil"\}/);
    });

    it('an endpoint outside the mesh is refused and counted while passthrough is off (fail closed)', async () => {
      expect((await ask(VIP.legacy)).line).toBe('closed');
      expect(appSockets.get('legacy') ?? []).toHaveLength(0);
      expect(await metrics('n1')).toMatch(
        /switchyard_service_failures_total\{service="web\/legacy",reason="endpoint-outside-mesh"\} 1/,
      );
    });

    it('an endpoint that refuses is tried once on another before the client sees an error; retries are counted', async () => {
      for (let n = 0; n < 16; n++) expect((await ask(VIP.flaky)).line).toBe('api1:8080');
      const text = await metrics('n1');
      const retries = Number(
        /switchyard_service_endpoint_retries_total\{service="web\/flaky"\} (\d+)/.exec(text)?.[1],
      );
      expect(retries).toBeGreaterThan(0);
      expect(text).not.toMatch(/switchyard_service_failures_total\{service="web\/flaky"/);
    });

    it('scale down mid-traffic: the endpoint gone gets no new tunnel once the slice event is in; its open tunnels last until its peer goes', async () => {
      // Earlier connections have all ended, so the counts endpoint choice reads start from zero.
      await expect
        .poll(async () =>
          /switchyard_connections_active\{workload="web\/client",carrier="hbone",direction="outbound"\} 0/.test(
            await metrics('n1'),
          ),
        )
        .toBe(true);
      const held: { line: string; socket: Socket }[] = [];
      for (let n = 0; n < 6; n++) held.push(await ask(VIP.api, 80, true));
      const onApi2 = held.filter((h) => h.line === 'api2:8080');
      // Power of two choices on open connections: with both held open, each endpoint gets half.
      expect(onApi2).toHaveLength(3);
      api.put('endpointslices', slice('api-1', 'api', [at('api1'), at('api3', { ready: false })]));
      await promptly(() => apiEndpoints()?.length, 1, 5);
      for (let n = 0; n < 6; n++) expect((await ask(VIP.api)).line).toBe('api1:8080');
      // The tunnels already open to api2 still carry bytes both ways.
      const first = onApi2[0]?.socket as Socket;
      const echoed = new Promise<string>((resolve) => first.once('data', (d) => resolve(String(d))));
      first.write('still here\n');
      expect(await echoed).toBe('still here\n');
      // The pod goes (its sidecar with it): the client's open connections to it end.
      const closed = onApi2.map(
        (h) =>
          new Promise((resolve) => {
            h.socket.once('end', resolve);
            h.socket.once('close', resolve);
          }),
      );
      await planes.n2?.removeWorkload('web/api2', 0);
      await Promise.all(closed);
      expect(held.filter((h) => h.line === 'api1:8080').every((h) => !h.socket.destroyed)).toBe(true);
      for (const h of held) h.socket.destroy();
    });
  },
);
