import { WorkloadFailedError } from '@switchyard/core';
import type { WorkloadCertificate } from '@switchyard/mesh';
import { Admission, type WorkloadState } from './admission.js';
import type { Accepted, Carrier, ConnectionReport } from './carrier.js';
import { carrierContext } from './carrier-context.js';
import { ConnectionReporter } from './connection-report.js';
import type { Endpoint } from './decide.js';
import { DATAPLANE_PORTS } from './defaults.js';
import { InboundPath } from './inbound-path.js';
import { type BoundListener, closeListeners, listen } from './listen.js';
import type { Logger } from './logger.js';
import type { Direction } from './metrics.js';
import { OutboundPath } from './outbound-path.js';
import type { ListenerStatus } from './workload-config.js';
import { type WorkloadConfig, workloadConfig } from './workload-config.js';
import type { WorkloadInputs } from './workload-inputs.js';
import type { WorkloadParts } from './workload-parts.js';
import type { ListenSpec } from './workload-policy.js';
import type { WorkloadSpec } from './workload-spec.js';

export type { WorkloadInputs } from './workload-inputs.js';

/**
 * One workload served by the data plane: a thin composition of its stages (admission, the
 * inbound and outbound paths, the reporter, the carrier's context) with its listeners, its
 * lifecycle (start, stop, drain) and its certificate. The path of a connection lives in the
 * stage files, one concept each.
 */
export class Workload {
  readonly spec: WorkloadSpec;
  readonly #in: WorkloadInputs;
  readonly #listeners: { role: string; bound: BoundListener[] }[] = [];
  readonly #log: Logger;
  readonly #labels: { workload: string; carrier: string };
  readonly #parts: WorkloadParts;
  readonly #inbound: InboundPath;
  readonly #outbound: OutboundPath;
  #carrier: Carrier | undefined;
  #state: WorkloadState = 'starting';
  #listenersClosed: Promise<void> | undefined;
  readonly #onRotated = (cert: WorkloadCertificate) => this.#parts.reporter.certificate(cert, 'rotated');

  constructor(spec: WorkloadSpec, inputs: WorkloadInputs) {
    this.spec = spec;
    this.#in = inputs;
    this.#labels = { workload: spec.id, carrier: spec.carrier.name };
    this.#log = inputs.logger.child({ workload: spec.id, carrier: spec.carrier.name });
    const reporter = new ConnectionReporter(inputs, this.#log, this.#labels);
    this.#parts = {
      spec,
      inputs,
      log: this.#log,
      reporter,
      admission: new Admission(inputs, reporter, this.#labels, () => this.#state),
      carrier: () => this.#carrier!,
      proxyPorts: () => this.proxyPorts,
    };
    this.#inbound = new InboundPath(this.#parts);
    this.#outbound = new OutboundPath(this.#parts);
  }

  /** `serving` once every listener is up; `draining` after remove; `stopped` when done. */
  get state(): WorkloadState {
    return this.#state;
  }

  /** False while the carrier says it cannot serve (see {@link Carrier.healthy}). */
  get healthy(): boolean {
    return this.#carrier?.healthy !== false;
  }

  /** Open connections per direction. */
  get active(): Readonly<Record<Direction, number>> {
    return this.#parts.admission.connections.counts;
  }

  /** Where this workload listens. */
  get listeners(): ListenerStatus[] {
    return this.#listeners.flatMap(({ role, bound }) =>
      bound.map((b) => ({ role, address: b.address, port: b.port })),
    );
  }

  /**
   * The proxy's own ports on this workload, which are never dialled for a peer: the well-known
   * ones (reserved whether this workload listens on them or not) and the ones it listens on.
   */
  get proxyPorts(): number[] {
    const { inbound, outbound } = this.spec.policy;
    return [
      ...Object.values(DATAPLANE_PORTS),
      ...(inbound?.port !== undefined ? [inbound.port] : []),
      ...(outbound ? [outbound.port] : []),
      ...(this.#carrier?.listeners ?? []).map((l) => l.port),
      ...this.listeners.map((l) => l.port),
      this.#in.adminPort,
    ].filter((p, i, all) => p !== 0 && all.indexOf(p) === i);
  }

  /** Counts, publishes and (sampled) logs one connection's end. */
  report(event: ConnectionReport): void {
    this.#parts.reporter.report(event);
  }

  /** What it runs with now: certificate, trust bundle, listeners, policy, recent denials. */
  config(): WorkloadConfig {
    return workloadConfig(
      this.spec,
      this.#state,
      this.listeners,
      this.spec.identity?.current,
      this.#parts.reporter.recentDenials,
    );
  }

  /**
   * Creates the carrier and opens every listener. On failure closes what it opened and throws
   * WorkloadFailedError naming the step.
   */
  async start(): Promise<void> {
    let carrier: Carrier;
    try {
      carrier = this.#createCarrier();
    } catch (cause) {
      this.#state = 'stopped';
      throw new WorkloadFailedError(
        `workload ${this.spec.id}: carrier ${this.spec.carrier.name} failed to start: ${(cause as Error).message}`,
        { cause },
      );
    }
    this.#carrier = carrier;
    try {
      await this.#openAll(carrier);
    } catch (cause) {
      await this.#stopListening();
      await carrier.close();
      this.#state = 'stopped';
      throw new WorkloadFailedError(`workload ${this.spec.id}: ${(cause as Error).message}`, { cause });
    }
    this.spec.identity?.on('rotated', this.#onRotated);
    if (this.spec.identity) this.#parts.reporter.certificate(this.spec.identity.current);
    this.#state = 'serving';
    this.#log.info('workload serving', {
      ...(this.spec.identity ? { spiffeId: this.spec.identity.current.spiffeId } : {}),
      listeners: this.listeners,
    });
  }

  /** The carrier, given the workload's identity unless it is an anonymous one (which needs none). */
  #createCarrier(): Carrier {
    const context = carrierContext(this.#parts, this.#inbound, () => this.#state !== 'serving');
    const factory = this.spec.carrier;
    if (factory.anonymous) return factory.create(context);
    const identity = this.spec.identity;
    if (!identity) throw new Error('a mesh carrier needs the workload identity');
    return factory.create({ ...context, workload: { ...context.workload, identity } });
  }

  async #openAll(carrier: Carrier): Promise<void> {
    const { inbound, outbound } = this.spec.policy;
    const { admission } = this.#parts;
    if (inbound?.port !== undefined)
      await this.#open(
        'inbound',
        { ...inbound, port: inbound.port },
        (c) => this.#inbound.captured(c),
        inbound.fixedDestination,
      );
    if (outbound)
      await this.#open(
        'outbound',
        outbound,
        (c) => admission.admit('outbound', c, () => void this.#outbound.handle(c)),
        outbound.fixedDestination,
      );
    for (const l of carrier.listeners ?? [])
      await this.#open(
        l.name,
        {
          port: l.port,
          ...(l.host ? { host: l.host } : {}),
          ...(l.families ? { families: l.families } : {}),
        },
        (c) => this.#inbound.listener(l, c),
      );
  }

  /**
   * Stops accepting, lets open connections finish for up to `deadlineMs`, then resets what is
   * left (RST, so a cut transfer never looks complete). Resolves when everything is closed.
   */
  async stop(deadlineMs: number, options: { keepSeries?: () => boolean } = {}): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'draining') return;
    this.#state = 'draining';
    const { connections } = this.#parts.admission;
    this.#log.info('draining', { open: connections.size, deadlineMs });
    const listenersClosed = this.#stopListening();
    // server.close() gives the port back at once; its callback waits for the connections too.
    this.#listenersClosed = new Promise((resolve) => setImmediate(resolve));
    this.#carrier?.drain();
    const finished = await connections.settle(deadlineMs);
    // The carrier cancels what it multiplexes (HTTP/2 streams) first; then every socket left is aborted.
    await this.#carrier?.close();
    const reset = finished ? 0 : connections.resetAll();
    if (reset > 0) this.#in.metrics.drainResets.inc(this.#labels, reset);
    await listenersClosed;
    this.spec.identity?.off('rotated', this.#onRotated);
    // A successor under the same id (a restarted container) owns the series by now.
    if (this.spec.identity && !options.keepSeries?.())
      this.#in.metrics.certificateExpiry.remove({ workload: this.spec.id });
    this.#state = 'stopped';
    this.#log.info('workload stopped', { resetAtDeadline: reset });
  }

  /** Resolves once this workload no longer listens (its ports are free), soon after {@link stop} began. */
  get listenersClosed(): Promise<void> {
    return this.#listenersClosed ?? Promise.resolve();
  }

  async #stopListening(): Promise<void> {
    const all = this.#listeners.splice(0).flatMap((l) => l.bound);
    await closeListeners(all);
  }

  async #open(
    role: string,
    spec: ListenSpec,
    onAccepted: (c: Accepted) => void,
    fixedDestination?: Endpoint,
  ): Promise<void> {
    const bound = await listen({
      socketOps: this.#in.socketOps,
      spec,
      target: this.spec.target,
      logger: this.#log,
      fixedDestination,
      onAccepted: (c) => {
        c.socket.on('error', (error) => this.#log.debug('socket error', { role, reason: error.message }));
        onAccepted(c);
      },
    });
    if (this.#state !== 'starting') {
      await closeListeners(bound);
      // Removed while it was starting (before it served).
      throw new Error('removed while starting');
    }
    this.#listeners.push({ role, bound });
  }
}
