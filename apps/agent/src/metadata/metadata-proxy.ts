import { isIP } from 'node:net';
import { formatTarget, PolicyUnsupportedError, type RedirectionDriver, type Target } from '@switchyard/core';
import {
  type CarrierFactory,
  DataPlane,
  type Endpoint,
  formatEndpoint,
  type Logger,
  type WorkloadPolicy,
} from '@switchyard/dataplane';
import { Registry } from 'prom-client';
import type { AgentConfig, MetadataProxyConfig } from '../config/agent-config.js';
import { AGENT_DEFAULTS } from '../config/defaults.js';
import { connectDocker, type DockerApi } from '../docker/docker-client.js';
import type { DockerContainer } from '../docker/docker-container.js';
import { DockerWatcher } from '../docker/docker-watcher.js';
import { type HnsEndpointFinder, hnsEndpointFinder } from '../network/hns-endpoint-of.js';
import { createAgentMetrics } from '../ops/agent-metrics.js';
import { AppliedJournal } from '../reconcile/applied-journal.js';
import type { CaptureServe, CaptureUnit } from '../reconcile/capture-unit.js';
import { Reconciler } from '../reconcile/reconciler.js';
import { forwardCarrier } from './forward-carrier.js';
import { registerMetadataMetrics } from './metadata-metrics.js';
import { type MetadataPlan, type PlannedClient, planMetadata } from './metadata-plan.js';
import { endpointFamilies, metadataPolicy } from './metadata-policy.js';
import type { MetadataClientStatus, MetadataProxyStatus, RelayCounts } from './metadata-status.js';

/** Options of {@link MetadataProxy.start}. */
export interface MetadataProxyOptions {
  config: MetadataProxyConfig;
  bypass: AgentConfig['bypass'];
  driver: RedirectionDriver;
  logger: Logger;
  /** Backoff of a failed capture and of Docker reconnects, ms (the agent's `retry`). */
  retry: { initialMs: number; maxMs: number };
  /** How often every client's capture is checked again (and Docker relisted), ms. */
  resyncMs: number;
  /** A connected Docker client instead of `config.docker` (tests). */
  docker?: DockerApi;
  /**
   * A started watcher of `config.docker` to listen to instead of one of its own (the agent shares
   * one with the `docker` source); its owner closes it.
   */
  watcher?: DockerWatcher;
  /** Windows: finds a container's HNS endpoint by address. Default: through HNS. */
  hnsEndpointOf?: HnsEndpointFinder;
  /** Whose containers Docker reports (tests of the Windows path on Linux). Default this platform. */
  platform?: NodeJS.Platform;
  /** Where its metrics go (the agent's registry); none when absent. */
  registry?: Registry;
  /**
   * The data plane its relays are workloads of (the agent's one plane, whose limits, drain and
   * metrics then reach them). Default: one of its own, closed with it.
   */
  plane?: DataPlane;
  /**
   * The agent's reconciler over `plane`: each client's capture is one of its capture units,
   * applied, journaled (so `--uninstall` removes it with the workloads' captures), retried and
   * removed as a workload's is, and checked at the agent's resync. Default: one of its own over
   * an in-memory journal, resynced every `resyncMs`, stopped with it.
   */
  reconciler?: Reconciler;
  /**
   * The mesh's opt-in label when the `docker` source captures containers: a client carrying it is
   * left to the mesh if the driver holds one policy per network (tproxy).
   */
  meshOptIn?: { label: string; value: string };
}

/** How long a client the runtime announced is held while Docker does not report it running, ms. */
const ANNOUNCE_GRACE_MS = 60_000;

/** The data plane workload serving every client on Windows, where HNS hands captures to the host. */
const SHARED_WORKLOAD = 'metadata';

/** A client's capture unit id in the reconciler and the journal (never a workload's: it has a `:`). */
const unitId = (clientId: string) => `metadata:${clientId}`;

/**
 * Delivers metadata clients' connections to the metadata endpoints to the proxy container.
 * Docker's labels say who is who; the plan (`planMetadata`) gives each client a capture unit of
 * the reconciler: a capture policy for just the endpoints (inside its namespace on Linux, on its
 * HNS endpoint on Windows) and a workload of the data plane with the `forward` carrier (its
 * connection limit, idle timeout, drain and metrics), which reads the current proxy at every
 * connection: a proxy that restarts or moves is followed as soon as Docker reports it. With no
 * proxy the relay refuses (fail closed), unless `whenNoProxy` is `direct`, which removes the
 * clients' captures until a proxy runs again. Containers without the label are never touched.
 * Stopping keeps the captures (fail closed); a client's capture goes with its container's network.
 */
export class MetadataProxy {
  readonly #o: MetadataProxyOptions;
  readonly #watcher: DockerWatcher;
  /** Whether {@link #watcher} is this proxy's own (started and closed here) or shared. */
  readonly #ownsWatcher: boolean;
  #unlisten: (() => void) | undefined;
  readonly #counts: RelayCounts = { relayed: 0, refused: 0, failed: 0 };
  readonly #plane: DataPlane;
  readonly #ownsPlane: boolean;
  readonly #reconciler: Reconciler;
  readonly #ownsReconciler: boolean;
  readonly #carrier: CarrierFactory;
  readonly #hnsEndpointOf: HnsEndpointFinder;
  #plan: MetadataPlan = { proxy: undefined, standby: [], clients: [], ignored: [] };
  /** Whether the plan comes from a Docker list yet: an empty plan before it is not "no clients". */
  #listed = false;
  /** Clients the runtime announced before Docker reports them running, until it does. */
  readonly #announced = new Map<string, { client: PlannedClient; expires: number }>();
  #timer: NodeJS.Timeout | undefined;

  private constructor(o: MetadataProxyOptions, watcher: DockerWatcher) {
    this.#o = o;
    this.#hnsEndpointOf = o.hnsEndpointOf ?? hnsEndpointFinder();
    const inc = o.registry ? registerMetadataMetrics(o.registry, () => this.status()) : undefined;
    this.#ownsWatcher = watcher !== o.watcher;
    this.#watcher = watcher;
    this.#ownsPlane = o.plane === undefined;
    this.#plane = o.plane ?? ownPlane(o);
    this.#ownsReconciler = o.reconciler === undefined;
    this.#reconciler = o.reconciler ?? ownReconciler(o, this.#plane);
    this.#carrier = forwardCarrier({
      caller: o.config.caller,
      to: (destination) => this.#route(destination),
      count: (outcome) => {
        this.#counts[outcome]++;
        inc?.(outcome);
      },
    });
  }

  /**
   * Connects to Docker, lists the labelled containers and captures every client before it
   * resolves; then follows Docker's events.
   *
   * @throws RuntimeUnavailableError when Docker does not answer.
   */
  static async start(o: MetadataProxyOptions): Promise<MetadataProxy> {
    if (o.config.caller === 'source' && !o.driver.targetKinds.includes('netns'))
      throw new PolicyUnsupportedError(
        `metadataProxy.caller "source" needs clients with network namespaces (Linux); the ${o.driver.name} driver has none: use "proxy-v2" or "agent"`,
      );
    const proxy = new MetadataProxy(o, o.watcher ?? (await ownWatcher(o)));
    const onContainers = (containers: readonly DockerContainer[]) => {
      const single = !o.driver.capabilities.multiplePolicies;
      proxy.#plan = planMetadata(containers, o.config.label, single ? o.meshOptIn : undefined);
      proxy.#listed = true;
      void proxy.#reconcile();
    };
    if (proxy.#ownsWatcher) await proxy.#watcher.start(onContainers);
    else proxy.#unlisten = proxy.#watcher.listen(onContainers);
    await proxy.#reconcile();
    if (proxy.#ownsReconciler) {
      proxy.#timer = setInterval(() => void proxy.#reconciler.resync(), o.resyncMs);
      proxy.#timer.unref();
    }
    return proxy;
  }

  /**
   * A container the runtime is about to start: a client is captured now, before its first
   * request, and held until Docker reports it running (or `ANNOUNCE_GRACE_MS` passes).
   *
   * @throws Error when a client's capture failed: the container must not start.
   */
  async announce(id: string, pid: number): Promise<void> {
    const c = await this.#watcher.starting(id, pid);
    if (!c) return;
    const single = !this.#o.driver.capabilities.multiplePolicies;
    const [client] = planMetadata([c], this.#o.config.label, single ? this.#o.meshOptIn : undefined).clients;
    if (!client) return;
    this.#announced.set(client.id, { client, expires: Date.now() + ANNOUNCE_GRACE_MS });
    await this.#reconcile();
    const error = this.#reconciler.capture(unitId(client.id))?.error;
    if (error) throw new Error(`metadata client ${client.name} not captured: ${error}`);
  }

  /** Clients, the proxy, and what is applied where. */
  status(): MetadataProxyStatus {
    const { config } = this.#o;
    const p = this.#plan.proxy;
    return {
      docker: config.docker,
      label: config.label,
      endpoints: config.endpoints.map(formatEndpoint),
      whenNoProxy: config.whenNoProxy,
      caller: config.caller,
      ...(p ? { proxy: { id: p.id, name: p.name, address: p.address } } : {}),
      standby: this.#plan.standby,
      clients: this.#plan.clients.map((c) => this.#clientStatus(c)),
      ignored: this.#plan.ignored,
      connections: { ...this.#counts },
      syncs: this.#watcher.syncs,
    };
  }

  /**
   * Stops following Docker; clients' captures stay (fail closed). Its own reconciler and data
   * plane stop with it; the agent's drain its relays with everything else when it stops.
   */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#unlisten?.();
    if (this.#ownsWatcher) await this.#watcher.close();
    if (this.#ownsReconciler) await this.#reconciler.stop();
    if (this.#ownsPlane) await this.#plane.close(0);
  }

  /** Where a captured connection goes: the current proxy, for a metadata endpoint (else refused). */
  #route(destination: Endpoint): Endpoint | { refused: string } {
    const { endpoints, proxyPort } = this.#o.config;
    const endpoint = endpoints.find((e) => e.address === destination.address && e.port === destination.port);
    if (!endpoint) return { refused: `${formatEndpoint(destination)} is not a metadata endpoint` };
    const proxy = this.#plan.proxy;
    if (!proxy) return { refused: 'no metadata proxy container runs (fail closed)' };
    return { address: proxy.address, port: proxyPort ?? endpoint.port };
  }

  #clientStatus(c: PlannedClient): MetadataClientStatus {
    const s = this.#reconciler.capture(unitId(c.id));
    const phase = s?.error ? 'failed' : s ? 'captured' : 'direct';
    const served = s?.served ? this.#plane.workload(s.served) : undefined;
    return {
      id: c.id,
      name: c.name,
      phase,
      ...(s?.target ? { target: formatTarget(s.target) } : {}),
      listeners: (served?.listeners ?? []).map((l) => formatEndpoint(l)),
      ...(s?.error ? { error: s.error, attempts: s.attempts } : {}),
    };
  }

  /** Hands the reconciler every client's capture unit (none while clients go direct). */
  async #reconcile(): Promise<void> {
    if (!this.#listed) return;
    const plan = this.#plan;
    const direct = !plan.proxy && this.#o.config.whenNoProxy === 'direct';
    const clients = direct ? [] : this.#withAnnounced(plan.clients);
    try {
      await this.#reconciler.captures(
        AGENT_DEFAULTS.metadataProxy.policyId,
        clients.map((c) => this.#unit(c)),
      );
    } catch (error) {
      this.#o.logger.error('metadata reconcile failed', { reason: (error as Error).message });
    }
  }

  /** A client's capture unit: its policy on its network, served by a `forward` workload. */
  #unit(client: PlannedClient): CaptureUnit {
    const { driver, config, bypass } = this.#o;
    const network = client.network;
    const own = driver.targetKinds.includes('netns') && network.kind === 'netns';
    const serve: CaptureServe = own
      ? { id: `metadata/${client.id}`, carrier: this.#carrier, policy: this.#policy() }
      : { id: SHARED_WORKLOAD, carrier: this.#carrier, policy: this.#policy(), shared: true };
    return {
      id: unitId(client.id),
      network: JSON.stringify(network),
      // Found again each time: on Windows a restarted container may have a new HNS endpoint.
      target: async (): Promise<Target> =>
        network.kind === 'netns'
          ? { kind: 'netns', path: network.path }
          : { kind: 'hns-endpoint', id: await this.#hnsEndpointOf(network.ip) },
      policy: metadataPolicy(config, bypass),
      serve,
    };
  }

  /** The planned clients, with announced ones Docker does not report yet (the announcement is newer). */
  #withAnnounced(planned: readonly PlannedClient[]): PlannedClient[] {
    const byId = new Map(planned.map((c) => [c.id, c]));
    for (const [id, a] of this.#announced) {
      const listed = byId.get(id);
      if (
        a.expires < Date.now() ||
        (listed && JSON.stringify(listed.network) === JSON.stringify(a.client.network))
      )
        this.#announced.delete(id);
      else byId.set(id, a.client);
    }
    return [...byId.values()];
  }

  /**
   * The serving policy of a metadata workload: captured connections to the endpoints arrive on
   * the outbound port; where the driver cannot tell their destination (HNS), they are the first
   * endpoint's. They are never Services.
   */
  #policy(): WorkloadPolicy {
    const { port, endpoints } = this.#o.config;
    const first = endpoints[0] as Endpoint;
    return {
      outbound: {
        port,
        families: endpointFamilies(endpoints),
        meshCidrs: endpoints.map((e) => `${e.address}/${isIP(e.address) === 6 ? 128 : 32}`),
        resolveServices: false,
        ...(this.#o.driver.socketOps.transparent ? {} : { fixedDestination: first }),
      },
    };
  }
}

/** A reconciler of its own (capture units alone, an in-memory journal), when the agent's is not shared. */
function ownReconciler(o: MetadataProxyOptions, plane: DataPlane): Reconciler {
  return new Reconciler({
    settings: { retry: o.retry, drainSeconds: 0, announceGraceSeconds: ANNOUNCE_GRACE_MS / 1000 },
    driver: o.driver,
    plane,
    journal: AppliedJournal.inMemory(),
    logger: o.logger,
    metrics: createAgentMetrics(new Registry()),
  });
}

/** A data plane of its own, when the agent's is not shared (its dials carry the bypass mark on Linux). */
function ownPlane(o: MetadataProxyOptions): DataPlane {
  return new DataPlane({
    socketOps: o.driver.socketOps,
    // The forward carrier pins nothing: no identity is ever checked.
    identityFallback: 'refuse',
    logger: o.logger,
    ...(o.bypass.userSid ? {} : { bypassMark: o.bypass.mark }),
  });
}

/** A watcher of `config.docker` for the metadata label alone, when none is shared. */
async function ownWatcher(o: MetadataProxyOptions): Promise<DockerWatcher> {
  return new DockerWatcher({
    docker: o.docker ?? (await connectDocker(o.config.docker)),
    socket: o.config.docker,
    labels: [o.config.label],
    logger: o.logger,
    retry: o.retry,
    resyncMs: o.resyncMs,
    ...(o.platform ? { platform: o.platform } : {}),
  });
}
