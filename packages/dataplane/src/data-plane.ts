import type { SocketOps } from '@switchyard/core';
import { WorkloadFailedError, WorkloadInvalidError } from '@switchyard/core';
import {
  DATAPLANE_PORTS,
  DEFAULT_ACCESS_LOG_RATE,
  DEFAULT_LIMITS,
  DEFAULT_TIMEOUTS,
  type Limits,
  type Timeouts,
} from './defaults.js';
import type { DestinationResolver } from './destination-resolver.js';
import { channels } from './diagnostics.js';
import { OpenConnections } from './endpoint-picker.js';
import type { IdentityFallback, IdentityResolver } from './identity.js';
import type { InboundAuthorizer } from './inbound-authorization.js';
import { jsonLogger, type Logger } from './logger.js';
import { createDataPlaneMetrics, type DataPlaneMetrics, type Direction } from './metrics.js';
import { createServiceMetrics, type ServiceMetrics } from './service-metrics.js';
import { Upstream } from './upstream.js';
import { Workload } from './workload.js';
import { checkWorkloadSpec } from './workload-check.js';
import type { ListenerStatus, WorkloadConfig } from './workload-config.js';
import type { WorkloadSpec } from './workload-spec.js';

/** The shared inputs of a {@link DataPlane}, built once and handed to every workload's carrier. */
export interface DataPlaneOptions {
  /** The capture driver's socket operations (any driver's: the data plane imports none). */
  socketOps: SocketOps;
  /** Which identities each destination may present. Without one, `identityFallback` must say what to accept. */
  identities?: IdentityResolver;
  /**
   * What a client accepts from a destination the resolver does not know. Default `refuse` with a
   * resolver; without one it must be given: `trust-domain` (any identity of our trust domain) is
   * weaker and has to be chosen explicitly.
   */
  identityFallback?: IdentityFallback;
  logger?: Logger;
  metrics?: DataPlaneMetrics;
  timeouts?: Partial<Timeouts>;
  limits?: Partial<Limits>;
  /** Socket mark of every upstream dial, which capture lets through. Default: the driver's. */
  bypassMark?: number;
  /** One log line per connection. Default false (failures are still logged at debug, sampled). */
  accessLog?: boolean;
  /** Per-connection log lines per second per workload before they are only counted. Default 50. */
  accessLogRate?: number;
  /** The admin port, excluded from what peers may reach. Default 15020. */
  adminPort?: number;
  /**
   * Which captured destinations are Services, and their endpoints: a connection to one goes to
   * an endpoint (power of two choices on open connections), its pod's identity pinned. Default
   * none: every destination is handled by its address alone.
   */
  destinations?: DestinationResolver;
  /**
   * Decides every inbound connection (the agent's cluster policies), in place of each
   * workload's `inbound.authorization` allow-list; it may also let plain TCP in (PERMISSIVE).
   * Default none: the allow-lists decide and plain TCP is refused unless a plaintext port or
   * source says otherwise.
   */
  authorizer?: InboundAuthorizer;
}

/** A workload as the data plane sees it. */
export interface WorkloadStatus {
  id: string;
  carrier: string;
  state: 'starting' | 'serving' | 'draining' | 'stopped' | 'failed';
  /** Its identity; none for a workload of an anonymous carrier (a plain forwarder). */
  spiffeId?: string;
  listeners: ListenerStatus[];
  active: Readonly<Record<Direction, number>>;
  /** Why it failed, when it did. */
  error?: string;
}

/**
 * One data plane for every workload of a node (ztunnel's in-pod model): identity, authorization,
 * upstream dialing, limits, logs and metrics are built once; workloads are added and removed at
 * run time, each with its own listeners inside its own network and its own identity. One
 * workload's failure is reported for it and never stops the others.
 *
 * @example
 * ```ts
 * const plane = new DataPlane({ socketOps: driver.socketOps, identities, logger });
 * await plane.addWorkload({ id: 'web/api', target, identity, carrier: hboneCarrier(), policy });
 * await plane.removeWorkload('web/api');
 * ```
 */
export class DataPlane {
  readonly metrics: DataPlaneMetrics;
  readonly logger: Logger;
  readonly #workloads = new Map<string, Workload>();
  /** Removed workloads whose connections still drain, by id (a successor may already serve). */
  readonly #draining = new Map<string, Set<Workload>>();
  readonly #stopping = new Set<Promise<void>>();
  readonly #failed = new Map<string, { spec: WorkloadSpec; error: string }>();
  readonly #timeouts: Readonly<Timeouts>;
  readonly #limits: Readonly<Limits>;
  readonly #upstream: Upstream;
  readonly #o: DataPlaneOptions;
  readonly #services:
    | { resolver: DestinationResolver; open: OpenConnections; metrics: ServiceMetrics }
    | undefined;
  #closed = false;

  constructor(options: DataPlaneOptions) {
    if (!options.identities && !options.identityFallback)
      throw new WorkloadInvalidError(
        'DataPlane needs an identity resolver (which identity each destination must present), or identityFallback: "trust-domain" chosen explicitly (weaker: any workload of the trust domain can pose as any destination)',
      );
    this.#o = options;
    this.#timeouts = Object.freeze({ ...DEFAULT_TIMEOUTS, ...options.timeouts });
    this.#limits = Object.freeze({ ...DEFAULT_LIMITS, ...options.limits });
    this.logger = options.logger ?? jsonLogger({ fields: { component: 'dataplane' } });
    this.metrics = options.metrics ?? createDataPlaneMetrics();
    this.#upstream = new Upstream({
      socketOps: options.socketOps,
      connectTimeout: this.#timeouts.connect,
      handshakeTimeout: this.#timeouts.handshake,
      bypassMark: options.bypassMark,
      identities: options.identities,
      identityFallback: options.identityFallback ?? 'refuse',
      logger: this.logger,
    });
    this.#services = options.destinations
      ? {
          resolver: options.destinations,
          open: new OpenConnections(),
          metrics: createServiceMetrics(this.metrics.registry),
        }
      : undefined;
  }

  /** The timeouts in force (defaults merged with the options). */
  get timeouts(): Readonly<Timeouts> {
    return this.#timeouts;
  }

  /**
   * True while at least one workload is serving, none is draining because of close(), and the
   * data plane is {@link DataPlane.healthy}.
   */
  get ready(): boolean {
    return !this.#closed && [...this.#workloads.values()].some((w) => w.state === 'serving') && this.healthy;
  }

  /** False while a workload's carrier says it cannot serve (a stalled engine thread). */
  get healthy(): boolean {
    return [...this.#workloads.values()].every((w) => w.healthy);
  }

  /**
   * Starts serving a workload: creates its carrier and opens its listeners inside its target.
   *
   * @throws WorkloadInvalidError for a malformed spec or a duplicate id (nothing is opened);
   *   WorkloadFailedError when a listener cannot open (what was opened is closed again; the
   *   failure shows in {@link DataPlane.workloads} until the workload is added again or removed).
   */
  async addWorkload(spec: WorkloadSpec): Promise<WorkloadStatus> {
    if (this.#closed) throw new WorkloadFailedError('the data plane is closed');
    checkWorkloadSpec(spec);
    if (this.#workloads.has(spec.id))
      throw new WorkloadInvalidError(`workload ${spec.id} is already served; remove it first`);
    // A predecessor still draining keeps its connections, not its ports.
    await Promise.all([...(this.#draining.get(spec.id) ?? [])].map((w) => w.listenersClosed));
    if (this.#workloads.has(spec.id))
      throw new WorkloadInvalidError(`workload ${spec.id} is already served; remove it first`);
    const workload = new Workload(spec, {
      socketOps: this.#o.socketOps,
      upstream: this.#upstream,
      timeouts: this.#timeouts,
      limits: this.#limits,
      logger: this.logger,
      metrics: this.metrics,
      accessLog: this.#o.accessLog === true,
      accessLogRate: this.#o.accessLogRate ?? DEFAULT_ACCESS_LOG_RATE,
      adminPort: this.#o.adminPort ?? DATAPLANE_PORTS.admin,
      ...(this.#services ? { services: this.#services } : {}),
      ...(this.#o.authorizer ? { authorizer: this.#o.authorizer } : {}),
    });
    this.#workloads.set(spec.id, workload);
    this.#failed.delete(spec.id);
    try {
      await workload.start();
    } catch (error) {
      this.#workloads.delete(spec.id);
      this.#failed.set(spec.id, { spec, error: (error as Error).message });
      this.#publish(spec.id, 'failed', (error as Error).message);
      // Thrown to the caller, who says it once (the agent's "workload not captured", a proxy's last line).
      this.logger.debug('workload failed', { workload: spec.id, reason: (error as Error).message });
      throw error;
    }
    this.#publish(spec.id, 'serving');
    return this.#status(workload);
  }

  /**
   * Stops serving a workload: closes its listeners at once, lets its connections finish for up
   * to `deadlineMs` (default: the drain timeout), then resets what is left. Unknown ids do nothing.
   * The id is free at once: {@link addWorkload} may serve a successor under it (a restarted
   * workload in a new network namespace) while this instance drains.
   */
  async removeWorkload(id: string, deadlineMs = this.#timeouts.drain): Promise<void> {
    this.#failed.delete(id);
    const workload = this.#workloads.get(id);
    if (!workload) return this.#count();
    // The id is free at once: a restarted workload (a new network namespace under the same id)
    // is served while this instance's connections drain.
    this.#workloads.delete(id);
    const draining = this.#draining.get(id) ?? new Set<Workload>();
    this.#draining.set(id, draining.add(workload));
    this.#count();
    const stopped = workload.stop(deadlineMs, { keepSeries: () => this.#workloads.has(id) });
    this.#stopping.add(stopped);
    try {
      await stopped;
    } finally {
      this.#stopping.delete(stopped);
      draining.delete(workload);
      if (draining.size === 0 && this.#draining.get(id) === draining) this.#draining.delete(id);
    }
    this.#publish(id, 'removed');
  }

  /** Every workload, serving or failed. */
  workloads(): WorkloadStatus[] {
    return [
      ...[...this.#workloads.values()].map((w) => this.#status(w)),
      ...[...this.#failed].map(([id, f]) => ({
        id,
        carrier: f.spec.carrier.name,
        state: 'failed' as const,
        ...(f.spec.identity ? { spiffeId: f.spec.identity.current.spiffeId } : {}),
        listeners: [],
        active: { inbound: 0, outbound: 0 },
        error: f.error,
      })),
    ];
  }

  /** The workloads as JSON, for the admin server's `/status`. */
  status(): { ready: boolean; workloads: WorkloadStatus[] } {
    return { ready: this.ready, workloads: this.workloads() };
  }

  /** One workload's status, or undefined. */
  workload(id: string): WorkloadStatus | undefined {
    return this.workloads().find((w) => w.id === id);
  }

  /**
   * What a workload runs with now, like `istioctl proxy-config`: certificate and trust bundle
   * (never the key), listeners, inbound and outbound policy, its recent denials and refusals.
   */
  workloadConfig(id: string): WorkloadConfig | undefined {
    return this.#workloads.get(id)?.config();
  }

  /** Drains and removes every workload (in parallel), then refuses new ones. */
  async close(deadlineMs = this.#timeouts.drain): Promise<void> {
    this.#closed = true;
    await Promise.all([
      ...[...this.#workloads.keys()].map((id) => this.removeWorkload(id, deadlineMs)),
      ...this.#stopping,
    ]);
    this.#failed.clear();
    this.#count();
  }

  #status(w: Workload): WorkloadStatus {
    return {
      id: w.spec.id,
      carrier: w.spec.carrier.name,
      state: w.state,
      ...(w.spec.identity ? { spiffeId: w.spec.identity.current.spiffeId } : {}),
      listeners: w.listeners,
      active: w.active,
    };
  }

  #publish(workload: string, state: string, reason?: string): void {
    this.#count();
    if (channels.workload.hasSubscribers)
      channels.workload.publish({ workload, state, ...(reason ? { reason } : {}) });
  }

  #count(): void {
    this.metrics.workloads.set({ state: 'serving' }, this.#workloads.size);
    this.metrics.workloads.set({ state: 'failed' }, this.#failed.size);
  }
}
