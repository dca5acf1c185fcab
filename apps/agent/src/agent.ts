import {
  DriverRegistry,
  type RedirectionDriver,
  RuntimeUnavailableError,
  UnsupportedPlatformError,
} from '@switchyard/core';
import {
  type AdminServer,
  type DataPlane,
  jsonLogger,
  type Logger,
  type LogLevel,
  startAdminServer,
  type WorkloadConfig,
} from '@switchyard/dataplane';
import { type AgentCore, buildCore } from './agent-core.js';
import { type CarrierChoice, settleCarrier } from './carriers/choose-carrier.js';
import type { AgentConfig } from './config/agent-config.js';
import { AGENT_DEFAULTS } from './config/defaults.js';
import type { DockerWatcher } from './docker/docker-watcher.js';
import { sharedDockerWatcher } from './docker/shared-watcher.js';
import type { PeerIdentities } from './identity/peer-identities.js';
import { kubeConfig } from './kubernetes/kube-config.js';
import type { AgentStatus } from './lifecycle/agent-status.js';
import { AGENT_VERSION } from './lifecycle/agent-version.js';
import { StartProgress } from './lifecycle/start-progress.js';
import { untilAborted } from './lifecycle/until-aborted.js';
import { MetadataProxy } from './metadata/metadata-proxy.js';
import { acquireLock, type InstanceLock } from './ops/instance-lock.js';
import { releaseMemory } from './ops/release-memory.js';
import { type Explanation, explain } from './policy/explain.js';
import { explainRoute } from './policy/explain-route.js';
import { type PolicyWatch, policyWatch } from './policy/policy-watch.js';
import type { Reconciler } from './reconcile/reconciler.js';
import { serveRuntime } from './runtime/serve-runtime.js';
import type { ServiceDirectory } from './services/service-directory.js';
import { type ServiceWatch, serviceWatch } from './services/service-watch.js';
import { createSource } from './sources/create-source.js';
import type { HnsNamespaceEndpoints } from './sources/resolve-network.js';
import type { WorkloadSource } from './sources/workload.js';

/** What `/status` and `switchyard-agent status` show (declared in `lifecycle/agent-status.ts`). */
export type { AgentStatus };

/** Options of {@link Agent.start}. */
export interface AgentOptions {
  /** Default: JSON lines on standard error at the configured level. */
  logger?: Logger;
  /** A driver instance instead of the configured one (tests, embedding). */
  driver?: RedirectionDriver;
  /** Windows: how a pod's HNS namespace becomes its endpoint. Default: through HNS. */
  hnsEndpoints?: HnsNamespaceEndpoints;
  /**
   * Stops start-up (SIGTERM while it waits for an API): what was started is stopped again, the
   * lock released, and `start` rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

interface AgentParts {
  lock: InstanceLock;
  core: AgentCore;
  driver: RedirectionDriver;
  /** The carrier workloads run on unless they name one, and how it was chosen. */
  carrier: CarrierChoice;
  plane: DataPlane;
  reconciler: Reconciler;
  peers: PeerIdentities;
  source: WorkloadSource;
  admin: AdminServer;
  /** The Service watch and what it fills (Kubernetes source). */
  services?: ServiceWatch;
  /** The policy watch (Kubernetes source, `policy.mode: istio`). */
  policies?: PolicyWatch;
  directory?: ServiceDirectory;
  close: () => void;
  /** Metadata proxying for Docker containers, when configured. */
  metadata?: MetadataProxy;
  /** The Docker watcher the source and metadata proxying share, when they share one. */
  docker?: DockerWatcher;
  /** The socket the container runtime asks for capture on. */
  runtime: { close(): Promise<void> };
}

/** What `/config?workload=ID` and `switchyard-agent config ID` show (like `istioctl proxy-config`). */
export interface AgentWorkloadConfig extends WorkloadConfig {
  /** Every address whose peer must present this identity (the source's pods and this node's workloads). */
  pinnedIdentities: Record<string, string>;
  /** The Services the agent knows (Kubernetes source), `namespace/name`. */
  services?: string[];
}

/**
 * The node agent: one process that takes workloads from a source, captures each with the
 * driver, serves them all from one {@link DataPlane}, and keeps the node matching the source.
 * Stopping leaves the capture rules in place (fail closed); {@link uninstall} removes them.
 *
 * @example
 * ```ts
 * const agent = await Agent.start(await loadConfig('/etc/switchyard/agent.yaml'));
 * process.once('SIGTERM', () => void agent.stop());
 * ```
 */
export class Agent {
  readonly config: AgentConfig;
  readonly logger: Logger;
  #ready = false;
  #stopping: Promise<void> | undefined;
  readonly #parts: AgentParts;
  readonly #progress: StartProgress;

  private constructor(config: AgentConfig, logger: Logger, progress: StartProgress, parts: AgentParts) {
    this.config = config;
    this.logger = logger;
    this.#progress = progress;
    this.#parts = parts;
  }

  /**
   * Takes the node's lock, loads the driver, starts the admin server and the source, and
   * reconciles the first snapshot; `/readyz` turns ready after it. Whatever was started is
   * stopped again when a step fails.
   */
  static async start(configured: AgentConfig, options: AgentOptions = {}): Promise<Agent> {
    const { config, choice: carrier } = await settleCarrier(configured);
    // The level can change while it runs (`switchyard-agent log-level`), for its own logger only.
    let level: LogLevel = config.log.level;
    const logger = options.logger ?? jsonLogger({ level: () => level, fields: { component: 'agent' } });
    const logLevel = options.logger
      ? undefined
      : {
          get: () => level,
          set: (l: LogLevel) => {
            logger.info('log level changed', { from: level, to: l });
            level = l;
          },
        };
    const adminAt = `${config.admin.host}:${config.admin.port}`;
    const { signal } = options;
    signal?.throwIfAborted();
    const lock = await acquireLock(config.stateDir, { admin: adminAt });
    const undo: (() => unknown)[] = [() => lock.release()];
    logCarrierChoice(logger, carrier);
    const progress = new StartProgress(config, carrier);
    try {
      const driver = options.driver ?? (await untilAborted(loadDriver(config.driver), signal));
      progress.driver = driver.name;
      const core = buildCore(config, driver, logger, options.hnsEndpoints);
      const { plane, reconciler: r, metrics } = core;
      undo.push(
        () => core.close(),
        () => plane.close(0),
        () => r.stop(),
      );
      let agent: Agent | undefined;
      const admin = await startAdminServer(
        {
          metrics: plane.metrics,
          get ready() {
            return (agent?.ready ?? false) && plane.healthy; // a stalled engine thread: not ready
          },
          status: (query) => agent?.status(query.get('service') ?? undefined) ?? progress.status(),
          routes: { '/explain': (query) => explainRoute(agent && ((f, t) => agent!.explain(f, t)), query) },
          config: (query) => agent?.workloadConfig(query.get('workload') ?? ''),
          ...(logLevel ? { logLevel } : {}),
        },
        { host: config.admin.host, port: config.admin.port },
      );
      undo.push(() => admin.close());
      // Services first: no workload is captured before ClusterIPs can be told apart.
      progress.starting = 'the first list of Services and EndpointSlices from the Kubernetes API';
      const services = serviceWatchOf(config, core, logger);
      if (services) undo.push(() => services.stop());
      await untilAborted(services?.start() ?? Promise.resolve(), signal);
      // Policies before workloads too: nothing is served before it can be authorized.
      progress.starting = 'the first list of Istio security policies from the Kubernetes API';
      const policies = await untilAborted(watchPolicies(config, core, logger), signal, (p) => p?.stop());
      if (policies) undo.push(() => policies.stop());
      progress.starting = `Docker at ${config.source.kind === 'docker' ? config.source.socket : ''}`;
      const docker = await untilAborted(sharedDockerWatcher(config, logger), signal, (d) => d?.close());
      if (docker) undo.push(() => docker.close());
      const source = createSource(config, logger, docker);
      undo.push(() => source.close());
      progress.starting = `the first snapshot of the ${source.kind} source`;
      await untilAborted(followSource(source, core, logger, progress), signal);
      progress.starting = 'metadata proxying (Docker)';
      const metadata = config.metadataProxy
        ? await untilAborted(
            MetadataProxy.start({
              config: config.metadataProxy,
              bypass: config.bypass,
              driver,
              logger: logger.child({ component: 'metadata-proxy' }),
              retry: config.retry,
              resyncMs: config.resyncSeconds * 1000,
              registry: plane.metrics.registry,
              // Its relays are workloads of the one data plane: its limits, drain and metrics.
              plane,
              // Its captures are the one reconciler's units: journaled, retried and resynced
              // with the workloads', removed by the one --uninstall path.
              reconciler: r,
              ...(docker ? { watcher: docker } : {}),
              ...(config.source.kind === 'docker'
                ? { meshOptIn: { label: config.source.label, value: AGENT_DEFAULTS.optInValue } }
                : {}),
            }),
            signal,
            (m) => m.close(),
          )
        : undefined;
      if (metadata) undo.push(() => metadata.close());
      const runtime = await serveRuntime(config.runtimeSocket, {
        source,
        reconciler: r,
        logger: logger.child({ component: 'runtime' }),
        ...(metadata ? { metadata } : {}),
      });
      undo.push(() => runtime.close());
      const resync = setInterval(() => void r.resync(), config.resyncSeconds * 1000);
      resync.unref();
      agent = new Agent(config, logger, progress, {
        lock,
        core,
        driver,
        carrier,
        plane,
        reconciler: r,
        peers: core.peers,
        source,
        admin,
        runtime,
        ...(services && core.services ? { services, directory: core.services } : {}),
        ...(policies ? { policies } : {}),
        close: () => {
          clearInterval(resync);
          core.close();
        },
        ...(metadata ? { metadata } : {}),
        ...(docker ? { docker } : {}),
      });
      agent.#ready = true;
      metrics.ready.set(1);
      // The start's lists are garbage now: give their memory back once (see releaseMemory).
      if (config.source.kind === 'kubernetes') setImmediate(() => releaseMemory());
      logger.info('agent ready', {
        node: config.node,
        source: source.kind,
        driver: driver.name,
        admin: `${adminAt}`,
        pid: process.pid,
      });
      return agent;
    } catch (error) {
      for (const step of undo.reverse())
        await Promise.resolve()
          .then(step)
          .catch(() => {});
      throw error;
    }
  }

  /** True once the first snapshot was reconciled, until stop. */
  get ready(): boolean {
    return this.#ready;
  }

  /** What is captured where, and why not; with `service` (`NS/NAME`), that Service's endpoints too. */
  status(service?: string): AgentStatus {
    const p = this.#parts;
    const problem = this.#progress.sourceProblem;
    return {
      ...(service !== undefined && p.directory ? { service: p.directory.report(service) ?? null } : {}),
      node: this.config.node,
      pid: process.pid,
      version: AGENT_VERSION,
      source: p.source.kind,
      driver: p.driver.name,
      carrier: p.carrier,
      ready: this.#ready,
      ...(problem ? { sourceProblem: problem } : {}),
      workloads: p.reconciler.report(),
      ...(p.metadata ? { metadataProxy: p.metadata.status() } : {}),
    };
  }

  /** What one workload runs with now (certificate, bundle, listeners, policy, denials), and what it may reach. */
  workloadConfig(workload: string): AgentWorkloadConfig | undefined {
    const p = this.#parts;
    const base = p.plane.workloadConfig(workload);
    if (!base) return undefined;
    return {
      ...base,
      pinnedIdentities: p.peers.pinned(),
      ...(p.directory ? { services: p.directory.names() } : {}),
    };
  }

  /**
   * What the data plane would decide for a connection from `from` to `to` (see {@link explain}),
   * from this agent's own state.
   *
   * @throws InputInvalidError for a bad or unknown name; RuntimeUnavailableError when policies are
   *   not Istio's (`policy.mode: namespace`).
   */
  explain(from: string, to: string): Explanation {
    const core = this.#parts.core;
    if (!core.policy)
      throw new RuntimeUnavailableError(
        'this agent does not enforce Istio policies (policy.mode is namespace): each workload admits peers of its own namespace',
      );
    return explain(
      from,
      to,
      {
        workloads: () => core.reconciler.plans(),
        identityOf: (address) => core.peers.expected(address)?.[0],
        pod: (id) => core.peers.pod(id),
      },
      core.policy.authorizer,
    );
  }

  /**
   * Stops: the source, then the data plane with a drain of `drainSeconds` (open connections
   * finish, then are reset), the admin server, the lock. Capture rules stay: while no agent runs,
   * captured traffic is refused, never sent in plaintext.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const p = this.#parts;
      this.#ready = false;
      // The runtime hears "unreachable" from now on: new pods and containers wait (fail closed).
      await p.runtime.close();
      p.close();
      await p.services?.stop();
      await p.policies?.stop();
      await p.source.close();
      await p.metadata?.close();
      await p.docker?.close();
      await p.reconciler.stop();
      await p.plane.close(this.config.drainSeconds * 1000);
      await p.admin.close();
      await p.lock.release();
      this.logger.info('agent stopped; capture rules kept (fail closed)', { node: this.config.node });
    })();
    return this.#stopping;
  }
}

/**
 * Starts the source with the reconciler as its sink; resolves once the first snapshot is
 * reconciled (every workload captured or failed).
 */
async function followSource(
  source: WorkloadSource,
  core: AgentCore,
  logger: Logger,
  progress: StartProgress,
): Promise<void> {
  let first: Promise<void> | undefined;
  await source.start({
    snapshot: (workloads) => {
      delete progress.sourceProblem;
      const done = core.reconciler.snapshot(workloads, first === undefined);
      first ??= done;
    },
    pods: (index) => {
      core.peers.follow(index);
      core.services?.pods(index);
    },
    podsChanged: (changed) => core.services?.podsChanged(changed),
    problem: (reason) => {
      progress.sourceProblem = { reason, since: new Date().toISOString() };
      logger.error('workload source problem; keeping the workloads as they are', { reason });
    },
    policies: (objects) => {
      if (core.policy) core.policy.store.replace(objects);
      else if (objects.length > 0)
        logger.warn('the workload file has policies, but policy.mode is not istio: they are not enforced');
    },
  });
  await first;
}

/** With the Kubernetes source: the Service and EndpointSlice watch (not started yet). */
function serviceWatchOf(config: AgentConfig, core: AgentCore, logger: Logger): ServiceWatch | undefined {
  if (config.source.kind !== 'kubernetes' || !core.services) return undefined;
  const directory = core.services;
  const kubeconfig = config.source.kubeconfig;
  let watch: ServiceWatch | undefined;
  return {
    start: async () => {
      watch = serviceWatch(await kubeConfig(kubeconfig), directory, logger, config.retry);
      await watch.start();
    },
    stop: async () => {
      await watch?.stop();
    },
  };
}

/** With the Kubernetes source and `policy.mode: istio`: starts the policy watch; resolves after the first list. */
async function watchPolicies(
  config: AgentConfig,
  core: AgentCore,
  logger: Logger,
): Promise<PolicyWatch | undefined> {
  if (config.source.kind !== 'kubernetes' || !core.policy) return undefined;
  const watch = policyWatch(
    await kubeConfig(config.source.kubeconfig),
    core.policy.store,
    logger.child({ component: 'policy' }),
    config.retry,
  );
  await watch.start();
  return watch;
}

/** Loads the configured driver and checks that it can work on this host. */
export async function loadDriver(name: string): Promise<RedirectionDriver> {
  const driver = await new DriverRegistry({ importModule: (specifier) => import(specifier) }).create(name);
  const probe = await driver.probe();
  if (!probe.usable)
    throw new UnsupportedPlatformError(
      `the ${name} driver cannot work here:\n${probe.problems.map((p) => `  - ${p.message}; fix: ${p.fix}`).join('\n')}`,
    );
  return driver;
}

/**
 * Says which carrier the agent runs; a fallback from the default is a warning on Linux (the engine
 * should load there), information elsewhere (Windows never runs it), with its reason either way.
 */
function logCarrierChoice(logger: Logger, c: CarrierChoice): void {
  if (c.fellBack)
    logger[process.platform === 'linux' ? 'warn' : 'info'](
      'the default carrier cannot run here: running the fallback',
      {
        carrier: c.name,
        default: c.fellBack.from,
        reason: c.fellBack.reason,
      },
    );
  else logger.info('carrier chosen', { carrier: c.name, pinned: c.pinned });
}
