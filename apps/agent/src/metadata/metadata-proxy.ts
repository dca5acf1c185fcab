import type { Server } from 'node:net';
import { formatTarget, type RedirectionDriver, type Target } from '@switchyard/core';
import { formatEndpoint, type Logger } from '@switchyard/dataplane';
import type { Registry } from 'prom-client';
import type { AgentConfig, MetadataProxyConfig } from '../config/agent-config.js';
import { AGENT_DEFAULTS } from '../config/defaults.js';
import { connectDocker, type DockerApi } from '../docker/docker-client.js';
import type { DockerContainer } from '../docker/docker-container.js';
import { DockerWatcher } from '../docker/docker-watcher.js';
import { type HnsEndpointFinder, hnsEndpointFinder } from './hns-endpoint-of.js';
import { closeListeners, listenerAddresses, openMetadataListeners } from './metadata-listeners.js';
import { registerMetadataMetrics } from './metadata-metrics.js';
import { type MetadataPlan, type PlannedClient, planMetadata } from './metadata-plan.js';
import { metadataPolicy } from './metadata-policy.js';
import type { RelayCounts, RelayInputs } from './metadata-relay.js';
import type { MetadataClientStatus, MetadataProxyStatus } from './metadata-status.js';

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
   * The mesh's opt-in label when the `docker` source captures containers: a client carrying it is
   * left to the mesh if the driver holds one policy per network (tproxy).
   */
  meshOptIn?: { label: string; value: string };
}

interface ClientState {
  client: PlannedClient;
  target?: Target;
  listeners: Server[];
  error?: string;
}

/** How long a client the runtime announced is held while Docker does not report it running, ms. */
const ANNOUNCE_GRACE_MS = 60_000;

/** How long a relay's dial to the proxy container may take, ms. */
const PROXY_CONNECT_TIMEOUT_MS = 2000;

/**
 * Delivers metadata clients' connections to the metadata endpoints to the proxy container.
 * Docker's labels say who is who; each client gets a capture policy for just the endpoints
 * (inside its namespace on Linux, on its HNS endpoint on Windows) and a relay listener, which
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
  readonly #relay: RelayInputs;
  readonly #hnsEndpointOf: HnsEndpointFinder;
  #plan: MetadataPlan = { proxy: undefined, standby: [], clients: [], ignored: [] };
  /** Clients the runtime announced before Docker reports them running, until it does. */
  readonly #announced = new Map<string, { client: PlannedClient; expires: number }>();
  #shared: Server[] | undefined;
  #chain: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(o: MetadataProxyOptions, watcher: DockerWatcher) {
    this.#o = o;
    this.#hnsEndpointOf = o.hnsEndpointOf ?? hnsEndpointFinder();
    const inc = o.registry ? registerMetadataMetrics(o.registry, () => this.status()) : undefined;
    this.#ownsWatcher = watcher !== o.watcher;
    this.#watcher = watcher;
    this.#relay = {
      socketOps: o.driver.socketOps,
      endpoints: o.config.endpoints,
      proxy: () => this.#plan.proxy,
      ...(o.config.proxyPort ? { proxyPort: o.config.proxyPort } : {}),
      ...(o.bypass.userSid ? {} : { mark: o.bypass.mark }),
      connectTimeoutMs: PROXY_CONNECT_TIMEOUT_MS,
      count: (outcome) => {
        this.#counts[outcome]++;
        inc?.(outcome);
      },
      logger: o.logger,
    };
  }

  /**
   * Connects to Docker, lists the labelled containers and captures every client before it
   * resolves; then follows Docker's events.
   *
   * @throws RuntimeUnavailableError when Docker does not answer.
   */
  static async start(o: MetadataProxyOptions): Promise<MetadataProxy> {
    const proxy = new MetadataProxy(o, o.watcher ?? (await ownWatcher(o)));
    const onContainers = (containers: readonly DockerContainer[]) => {
      const single = !o.driver.capabilities.multiplePolicies;
      proxy.#plan = planMetadata(containers, o.config.label, single ? o.meshOptIn : undefined);
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
    this.#unlisten?.();
    if (this.#ownsWatcher) await this.#watcher.close();
    await this.#chain;
    await Promise.all([...this.#clients.values()].map((s) => closeListeners(s.listeners)));
    await closeListeners(this.#shared ?? []);
    this.#clients.clear();
  }

  #clientStatus(c: PlannedClient): MetadataClientStatus {
    const s = this.#clients.get(c.id);
    const phase = s?.error ? 'failed' : s ? 'captured' : 'direct';
    return {
      id: c.id,
      name: c.name,
      phase,
      ...(s?.target ? { target: formatTarget(s.target) } : {}),
      listeners: listenerAddresses(s?.listeners.length ? s.listeners : s ? (this.#shared ?? []) : []),
      ...(s?.error ? { error: s.error } : {}),
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
    for (const client of wanted.values()) {
      let state = this.#clients.get(client.id);
      if (state && JSON.stringify(state.client.network) !== JSON.stringify(client.network)) {
        // The container restarted: a new process, a new namespace (or address); the old one is gone.
        await closeListeners(state.listeners);
        this.#clients.delete(client.id);
        state = undefined;
      }
      if (!state || state.error || recheck) await this.#capture(client, state);
    }
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
    const state: ClientState = previous ?? { client, listeners: [] };
    this.#clients.set(client.id, state);
    try {
      // Found again each time: on Windows a restarted container may have a new HNS endpoint.
      state.target =
        client.network.kind === 'netns'
          ? { kind: 'netns', path: client.network.path }
          : { kind: 'hns-endpoint', id: await this.#hnsEndpointOf(client.network.ip) };
      const { changed } = await driver.apply(state.target, metadataPolicy(this.#o.config, this.#o.bypass));
      await this.#listen(state);
      if (changed || previous?.error)
        logger.info('metadata capture applied', {
          container: client.name,
          target: formatTarget(state.target),
        });
      delete state.error;
    } catch (error) {
      state.error = (error as Error).message;
      logger.warn('metadata capture failed; retrying', { container: client.name, reason: state.error });
    }
  }

  /** Linux: a listener inside the client's namespace; Windows: one shared listener on the host. */
  async #listen(state: ClientState): Promise<void> {
    const { driver, config } = this.#o;
    if (driver.targetKinds.includes('netns') && state.target?.kind === 'netns') {
      if (state.listeners.length === 0)
        state.listeners = await openMetadataListeners(
          driver.socketOps,
          config.port,
          config.endpoints,
          this.#relay,
          state.target,
        );
      return;
    }
    this.#shared ??= await openMetadataListeners(
      driver.socketOps,
      config.port,
      config.endpoints,
      this.#relay,
    );
  }

  /** Stops serving a client; its capture is removed only while its container still runs (`direct`). */
  async #release(id: string, state: ClientState, running: boolean): Promise<void> {
    this.#clients.delete(id);
    await closeListeners(state.listeners);
    if (!running || !state.target) return; // its network went with the container
    try {
      await this.#o.driver.remove(state.target, AGENT_DEFAULTS.metadataProxy.policyId);
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
