import { isIP } from 'node:net';
import {
  formatTarget,
  hasErrorCode,
  PolicyUnsupportedError,
  type RedirectionDriver,
  type Target,
} from '@switchyard/core';
import {
  type CarrierFactory,
  DataPlane,
  type Endpoint,
  formatEndpoint,
  type Logger,
  type WorkloadPolicy,
} from '@switchyard/dataplane';
import type { Registry } from 'prom-client';
import type { AgentConfig, MetadataProxyConfig } from '../config/agent-config.js';
import { AGENT_DEFAULTS } from '../config/defaults.js';
import { connectDocker, type DockerApi } from '../docker/docker-client.js';
import type { DockerContainer } from '../docker/docker-container.js';
import { DockerWatcher } from '../docker/docker-watcher.js';
import { type HnsEndpointFinder, hnsEndpointFinder } from '../network/hns-endpoint-of.js';
import type { AppliedJournal } from '../reconcile/applied-journal.js';
import { backoffDelay } from '../util/backoff.js';
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
  /** Docker reconnect backoff, ms. */
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
   * The agent's journal (loaded): each client's capture is recorded in it before it is applied
   * and dropped once removed, so `--uninstall` removes metadata captures with the workloads' in
   * one pass. Entries of clients gone while no agent ran are removed at the first pass.
   */
  journal?: AppliedJournal;
  /**
   * The mesh's opt-in label when the `docker` source captures containers: a client carrying it is
   * left to the mesh if the driver holds one policy per network (tproxy).
   */
  meshOptIn?: { label: string; value: string };
}

interface ClientState {
  client: PlannedClient;
  target?: Target;
  /** Its workload in the data plane (Linux), once served. */
  workload?: string;
  error?: string;
  /** Failed attempts in a row (0 once captured). */
  attempts: number;
}

/** How long a client the runtime announced is held while Docker does not report it running, ms. */
const ANNOUNCE_GRACE_MS = 60_000;

/** The data plane workload serving every client on Windows, where HNS hands captures to the host. */
const SHARED_WORKLOAD = 'metadata';

/** The id of a client's capture in the agent's journal (never a workload's: those have no `:`). */
const journalKey = (clientId: string) => `metadata:${clientId}`;

/**
 * Delivers metadata clients' connections to the metadata endpoints to the proxy container.
 * Docker's labels say who is who; each client gets a capture policy for just the endpoints
 * (inside its namespace on Linux, on its HNS endpoint on Windows) and a workload of the data
 * plane with the `forward` carrier (its connection limit, idle timeout, drain and metrics), which
 * reads the current proxy at every connection: a proxy that restarts or moves is followed as
 * soon as Docker reports it. With no proxy the relay refuses (fail closed), unless `whenNoProxy`
 * is `direct`, which removes the clients' captures until a proxy runs again. Containers without
 * the label are never touched. Stopping keeps the captures (fail closed); a client's capture goes
 * with its container's network.
 */
export class MetadataProxy {
  readonly #o: MetadataProxyOptions;
  readonly #watcher: DockerWatcher;
  /** Whether {@link #watcher} is this proxy's own (started and closed here) or shared. */
  readonly #ownsWatcher: boolean;
  #unlisten: (() => void) | undefined;
  readonly #clients = new Map<string, ClientState>();
  readonly #counts: RelayCounts = { relayed: 0, refused: 0, failed: 0 };
  readonly #plane: DataPlane;
  readonly #ownsPlane: boolean;
  readonly #carrier: CarrierFactory;
  readonly #hnsEndpointOf: HnsEndpointFinder;
  #plan: MetadataPlan = { proxy: undefined, standby: [], clients: [], ignored: [] };
  /** Clients the runtime announced before Docker reports them running, until it does. */
  readonly #announced = new Map<string, { client: PlannedClient; expires: number }>();
  #shared: string | undefined;
  #chain: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  /** The next pass after a failed capture (backoff), so a busy node's hiccup is retried soon. */
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  /** Whether the journal's entries of clients no longer planned were cleaned up (first pass). */
  #journalChecked = false;
  /** Whether the plan comes from a Docker list yet. */
  #listed = false;

  private constructor(o: MetadataProxyOptions, watcher: DockerWatcher) {
    this.#o = o;
    this.#hnsEndpointOf = o.hnsEndpointOf ?? hnsEndpointFinder();
    const inc = o.registry ? registerMetadataMetrics(o.registry, () => this.status()) : undefined;
    this.#ownsWatcher = watcher !== o.watcher;
    this.#watcher = watcher;
    this.#ownsPlane = o.plane === undefined;
    this.#plane = o.plane ?? ownPlane(o);
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
    proxy.#timer = setInterval(() => void proxy.#reconcile(true), o.resyncMs);
    proxy.#timer.unref();
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
    const error = this.#clients.get(client.id)?.error;
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

  /** Stops following Docker and closes the relays; clients' captures stay (fail closed). */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    clearTimeout(this.#retry);
    this.#unlisten?.();
    if (this.#ownsWatcher) await this.#watcher.close();
    await this.#chain;
    // A shared plane drains them with everything else when it closes.
    if (this.#ownsPlane) await this.#plane.close(0);
    this.#clients.clear();
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

  /** The listeners of a workload of ours, as `address:port`. */
  #listeners(workload: string | undefined): string[] {
    const status = workload ? this.#plane.workload(workload) : undefined;
    return (status?.listeners ?? []).map((l) => formatEndpoint(l));
  }

  #clientStatus(c: PlannedClient): MetadataClientStatus {
    const s = this.#clients.get(c.id);
    const phase = s?.error ? 'failed' : s ? 'captured' : 'direct';
    return {
      id: c.id,
      name: c.name,
      phase,
      ...(s?.target ? { target: formatTarget(s.target) } : {}),
      listeners: this.#listeners(s?.workload ?? (s ? this.#shared : undefined)),
      ...(s?.error ? { error: s.error, attempts: s.attempts } : {}),
    };
  }

  /** Brings the clients' captures in line with the plan, one pass at a time. */
  #reconcile(recheck = false): Promise<void> {
    this.#chain = this.#chain
      .then(() => this.#pass(recheck))
      .catch((error: Error) => this.#o.logger.error('metadata reconcile failed', { reason: error.message }));
    return this.#chain;
  }

  async #pass(recheck: boolean): Promise<void> {
    if (this.#closed) return;
    const plan = this.#plan;
    const clients = this.#withAnnounced(plan.clients);
    const direct = !plan.proxy && this.#o.config.whenNoProxy === 'direct';
    const wanted = new Map(direct ? [] : clients.map((c) => [c.id, c]));
    const running = new Set(clients.map((c) => c.id));
    for (const [id, state] of this.#clients)
      if (!wanted.has(id)) await this.#release(id, state, running.has(id));
    // Only against a list Docker gave: an empty plan before it would read as "no clients".
    if (!this.#journalChecked && this.#listed)
      await this.#dropStale(new Set([...wanted.keys()].map(journalKey)));
    for (const client of wanted.values()) {
      let state = this.#clients.get(client.id);
      if (state && JSON.stringify(state.client.network) !== JSON.stringify(client.network)) {
        // The container restarted: a new process, a new namespace (or address); the old one is gone.
        await this.#unserve(state);
        this.#clients.delete(client.id);
        state = undefined;
      }
      if (!state || state.error || recheck) await this.#capture(client, state);
    }
    this.#retryFailed();
  }

  /**
   * A failed capture is tried again after a backoff (`retry`), not only at the next resync: a
   * transient failure (a busy node, a namespace not up yet) must not leave a client uncaptured
   * for a whole resync interval.
   */
  #retryFailed(): void {
    if (this.#closed || this.#retry) return;
    const failed = [...this.#clients.values()].filter((s) => s.error);
    if (failed.length === 0) return;
    const attempts = Math.max(...failed.map((s) => s.attempts));
    const { initialMs, maxMs } = this.#o.retry;
    this.#retry = setTimeout(
      () => {
        this.#retry = undefined;
        void this.#reconcile();
      },
      backoffDelay(attempts, initialMs, maxMs),
    );
    this.#retry.unref();
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

  async #capture(client: PlannedClient, previous: ClientState | undefined): Promise<void> {
    const { driver, logger } = this.#o;
    const state: ClientState = previous ?? { client, attempts: 0 };
    this.#clients.set(client.id, state);
    try {
      // Found again each time: on Windows a restarted container may have a new HNS endpoint.
      state.target =
        client.network.kind === 'netns'
          ? { kind: 'netns', path: client.network.path }
          : { kind: 'hns-endpoint', id: await this.#hnsEndpointOf(client.network.ip) };
      const policy = metadataPolicy(this.#o.config, this.#o.bypass);
      // Recorded before the rules exist: a crash between the two still leaves a trace to remove.
      await this.#o.journal?.record(journalKey(client.id), {
        target: state.target,
        driver: driver.name,
        policyId: policy.id,
      });
      const { changed } = await driver.apply(state.target, policy);
      await this.#listen(state);
      if (changed || previous?.error)
        logger.info('metadata capture applied', {
          container: client.name,
          target: formatTarget(state.target),
        });
      delete state.error;
      state.attempts = 0;
    } catch (error) {
      state.error = (error as Error).message;
      state.attempts++;
      logger.warn('metadata capture failed; retrying', {
        container: client.name,
        reason: state.error,
        attempt: state.attempts,
      });
    }
  }

  /** Linux: a workload inside the client's namespace; Windows: one shared workload on the host. */
  async #listen(state: ClientState): Promise<void> {
    const { driver } = this.#o;
    if (driver.targetKinds.includes('netns') && state.target?.kind === 'netns') {
      if (state.workload) return;
      const id = `metadata/${state.client.id}`;
      await this.#plane.addWorkload({
        id,
        target: state.target,
        carrier: this.#carrier,
        policy: this.#policy(),
      });
      state.workload = id;
      return;
    }
    if (this.#shared) return;
    await this.#plane.addWorkload({ id: SHARED_WORKLOAD, carrier: this.#carrier, policy: this.#policy() });
    this.#shared = SHARED_WORKLOAD;
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

  /** Stops serving a client's workload (its open connections are reset). */
  async #unserve(state: ClientState): Promise<void> {
    if (state.workload) await this.#plane.removeWorkload(state.workload, 0);
    delete state.workload;
  }

  /** Stops serving a client; its capture is removed only while its container still runs (`direct`). */
  async #release(id: string, state: ClientState, running: boolean): Promise<void> {
    this.#clients.delete(id);
    await this.#unserve(state);
    // Its network went with the container.
    if (!running || !state.target) return void (await this.#o.journal?.drop(journalKey(id)));
    try {
      await this.#o.driver.remove(state.target, AGENT_DEFAULTS.metadataProxy.policyId);
      await this.#o.journal?.drop(journalKey(id));
      this.#o.logger.info('metadata capture removed: no proxy, clients go direct', {
        container: state.client.name,
      });
    } catch (error) {
      this.#o.logger.warn('metadata capture not removed', {
        container: state.client.name,
        reason: (error as Error).message,
      });
    }
  }
  /**
   * Once: the journal's metadata captures of clients not wanted now (gone while no agent ran, or
   * going direct while no proxy runs) are removed where their network still exists, and forgotten.
   */
  async #dropStale(planned: ReadonlySet<string>): Promise<void> {
    const journal = this.#o.journal;
    this.#journalChecked = true;
    const policyId = AGENT_DEFAULTS.metadataProxy.policyId;
    for (const [key, entry] of journal?.entries() ?? []) {
      if (entry.policyId !== policyId || planned.has(key)) continue;
      try {
        await this.#o.driver.remove(entry.target, policyId);
      } catch (error) {
        if (!hasErrorCode(error, 'SWY_ERR_TARGET_NOT_FOUND')) {
          this.#o.logger.warn('metadata capture not removed', {
            target: formatTarget(entry.target),
            reason: (error as Error).message,
          });
          continue;
        }
      }
      await journal?.drop(key);
    }
  }
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
