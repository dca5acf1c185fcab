import { mkdtempSync, rmSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetnsTarget } from '@switchyard/core';
import { DataPlane, silentLogger } from '@switchyard/dataplane';
import type { CarrierFactory } from '@switchyard/dataplane/carrier';
import { tproxyDriver } from '@switchyard/driver-tproxy';
import { CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { PeerIdentities } from '../identity/peer-identities.js';
import { kubeConfig } from '../kubernetes/kube-config.js';
import { type Explanation, explain } from '../policy/explain.js';
import { PolicyAuthorizer } from '../policy/policy-authorizer.js';
import { PolicyStore } from '../policy/policy-store.js';
import { type PolicyWatch, policyWatch } from '../policy/policy-watch.js';
import { kubernetesSource } from '../sources/kubernetes-source.js';
import type { WorkloadSource } from '../sources/workload.js';
import { FakeKubeApi } from './fake-kube-api.js';
import { firstLine } from './first-line.js';
import { namespaceObject, podObject, writeKubeconfig } from './kube-fixtures.js';
import { createPodFabric, type PodFabric } from './pod-fabric.js';

/** Mesh clients (their data plane as if on n1), the server api (its data plane on n2), a client outside the mesh. */
export const LAB_PODS = ['client', 'evil', 'api', 'outsider'] as const;
/** A pod of the lab. */
export type LabPod = (typeof LAB_PODS)[number];
const MESH_CLIENTS = ['client', 'evil'] as const;
const OPT_IN = 'switchyard.io/capture';
/** The api app's ports: each answers `api:PORT\n` and closes. */
export const LAB_APP_PORTS = [8080, 9090] as const;

/** Options of {@link startPolicyLab}. */
export interface PolicyLabOptions {
  /** The carrier of every data plane in the lab (one factory per data plane). */
  carrier: () => CarrierFactory;
  /** The server's peers come to HBONE's 15008 (kept out of its inbound capture). */
  hbone?: boolean;
}

/**
 * Istio policies from a list/watch API, enforced by a receiving data plane in real namespaces:
 * the pods of {@link LAB_PODS} in a pod fabric, api's app on {@link LAB_APP_PORTS}, the policy
 * store and authorizer the agent builds, `explain` over the same state.
 */
export interface PolicyLab {
  pki: TestPki;
  /** Connections the api app accepted, per port: a denied client must add none. */
  accepted: Map<number, number>;
  /** What clients sent the api app, per port (every byte of every connection, in order). */
  received: Map<number, string>;
  ip(pod: LabPod): string;
  ns(pod: LabPod): NetnsTarget;
  /** The name of `pod`'s network namespace (`ip netns exec NAME`). */
  netns(pod: LabPod): string;
  /**
   * `pod` connects to api:port (captured where the pod is in the mesh), sends `say` if given,
   * and waits for the server: the first line it reads, or how it ended.
   */
  ask(pod: LabPod, port: number, say?: string): Promise<string>;
  /** What explain says for FROM → web/api:port. */
  why(from: string, port: number): Explanation;
  put(kind: 'authorizationpolicies' | 'peerauthentications', name: string, spec: unknown): void;
  remove(kind: 'authorizationpolicies' | 'peerauthentications', name: string): void;
  /** Resolves once `check` holds (a policy change reached the store), or throws after `timeoutMs`. */
  until(check: () => boolean, timeoutMs?: number): Promise<void>;
  /** The server data plane's metrics, as text. */
  metrics(): Promise<string>;
  close(): Promise<void>;
}

/** Starts a {@link PolicyLab} (root: namespaces and nftables). */
export async function startPolicyLab(o: PolicyLabOptions): Promise<PolicyLab> {
  const driver = tproxyDriver();
  const ops = driver.socketOps;
  const dir = mkdtempSync(join(tmpdir(), 'swy-policy-'));
  const fabric: PodFabric = createPodFabric([...LAB_PODS]);
  const cleanups: (() => unknown)[] = [
    () => rmSync(dir, { recursive: true, force: true }),
    () => fabric.destroy(),
  ];
  const close = async () => {
    for (const c of cleanups.reverse()) await c();
  };
  try {
    const ns = (pod: LabPod): NetnsTarget => ({ kind: 'netns', name: fabric.pods[pod]?.netns as string });
    const ip = (pod: LabPod) => fabric.pods[pod]?.ip as string;
    const pki = await createTestPki();
    cleanups.push(() => pki.dispose());
    const api = await new FakeKubeApi({ bookmarkMs: 300 }).start();
    cleanups.push(() => api.close());
    const peers = new PeerIdentities('cluster.local', () => []);
    const kubeconfig = writeKubeconfig(dir, api.url);
    const source = await startSource(api, ip, kubeconfig, peers);
    cleanups.push(() => source.close());
    const store = new PolicyStore({
      rootNamespace: 'istio-system',
      defaultMtls: 'STRICT',
      logger: silentLogger,
    });
    const watch: PolicyWatch = policyWatch(await kubeConfig(kubeconfig), store, silentLogger);
    await watch.start();
    cleanups.push(() => watch.stop());
    const options = {
      socketOps: ops,
      identities: peers,
      logger: silentLogger,
      timeouts: { connect: 2000, handshake: 2000, drain: 0 },
    };
    let authorizer: PolicyAuthorizer | undefined;
    const clients = new DataPlane(options);
    const server = new DataPlane({
      ...options,
      authorizer: {
        authorize: (r) => (authorizer as PolicyAuthorizer).authorize(r),
        plainAccepted: (r) => (authorizer as PolicyAuthorizer).plainAccepted(r),
      },
    });
    cleanups.push(() => Promise.all([clients.close(0), server.close(0)]));
    authorizer = new PolicyAuthorizer(store, server.metrics.registry);
    authorizer.setWorkloads([{ id: 'web/api', namespace: 'web', labels: { app: 'api' } }]);
    for (const pod of MESH_CLIENTS) {
      await driver.apply(ns(pod), { families: ['ipv4'], outbound: { port: 15001 } });
      cleanups.push(() => driver.remove(ns(pod)));
      await clients.addWorkload({
        id: `web/${pod}`,
        target: ns(pod),
        identity: await CertificateStore.open(await pki.issue(pod, 'web', pod), { watch: false }),
        carrier: o.carrier(),
        addresses: [ip(pod)],
        policy: { outbound: { port: 15001, families: ['ipv4'], meshCidrs: [fabric.subnet] }, ports: {} },
      });
    }
    await driver.apply(ns('api'), {
      families: ['ipv4'],
      inbound: { port: 15006, ...(o.hbone ? { excludePorts: [15008] } : {}) },
    });
    cleanups.push(() => driver.remove(ns('api')));
    await server.addWorkload({
      id: 'web/api',
      target: ns('api'),
      identity: await CertificateStore.open(await pki.issue('api', 'web', 'api'), { watch: false }),
      carrier: o.carrier(),
      addresses: [ip('api')],
      policy: {
        inbound: { port: 15006, families: ['ipv4'], preserveSource: false },
        ports: o.hbone ? { hbone: 15008 } : {},
      },
    });
    const accepted = new Map<number, number>();
    const received = new Map<number, string>();
    for (const port of LAB_APP_PORTS) {
      const app = await ops.listen({ port, family: 'ipv4', target: ns('api') });
      app.on('connection', (s: Socket) => {
        s.on('error', () => undefined);
        s.on('data', (d) => received.set(port, (received.get(port) ?? '') + d));
        accepted.set(port, (accepted.get(port) ?? 0) + 1);
        s.end(`api:${port}\n`);
      });
      cleanups.push(() => new Promise((resolve) => (app as Server).close(resolve)));
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
    return {
      pki,
      accepted,
      received,
      ip,
      ns,
      netns: (pod) => fabric.pods[pod]?.netns as string,
      ask: (pod, port, say) => ask(ops, ns(pod), { address: ip('api'), port }, say),
      why,
      put: (kind, name, spec) => api.put(kind, { metadata: { name, namespace: 'web' }, spec }),
      remove: (kind, name) => api.delete(kind, 'web', name),
      metrics: () => server.metrics.registry.metrics(),
      until,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not so within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The kubernetes source on n2 over the fake API holding namespace web and the mesh pods. */
async function startSource(
  api: FakeKubeApi,
  ip: (pod: LabPod) => string,
  kubeconfig: string,
  peers: PeerIdentities,
): Promise<WorkloadSource> {
  api.put('namespaces', namespaceObject('web', { [OPT_IN]: 'enabled' }));
  for (const name of [...MESH_CLIENTS, 'api'] as const)
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
  const source = kubernetesSource({ node: 'n2', label: OPT_IN, kubeconfig }, silentLogger);
  await source.start({
    snapshot: () => undefined,
    pods: (index) => peers.follow(index),
    problem: (reason) => {
      throw new Error(reason);
    },
  });
  return source;
}

/** Connects from `target` to `destination`, says `say`: the first line read, `closed`, or `timeout` after 5 s. */
async function ask(
  ops: ReturnType<typeof tproxyDriver>['socketOps'],
  target: NetnsTarget,
  destination: { address: string; port: number },
  say?: string,
): Promise<string> {
  const socket = await ops.dial({ destination, mark: 0, target });
  socket.on('error', () => undefined);
  if (say) socket.write(say);
  const line = await firstLine(socket);
  socket.destroy();
  return line;
}
