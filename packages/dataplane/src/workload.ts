import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { cidrMatcher, type SocketOps, WorkloadFailedError } from '@switchyard/core';
import { splice, type WorkloadCertificate } from '@switchyard/mesh';
import type { Accepted, Carrier, CarrierContext, ConnectionReport } from './carrier.js';
import { ConnectionSet } from './connection-set.js';
import { decideInbound, decideOutbound, type Endpoint } from './decide.js';
import { DATAPLANE_PORTS, type Limits, type Timeouts } from './defaults.js';
import type { DestinationResolver, ServiceDestination, ServiceRoute } from './destination-resolver.js';
import { channels } from './diagnostics.js';
import { type OpenConnections, pickEndpoints } from './endpoint-picker.js';
import { HandshakeGate } from './handshake-gate.js';
import { type BoundListener, closeListeners, listen, unmapAddress } from './listen.js';
import { type LogFields, type Logger, rateLimited } from './logger.js';
import type { DataPlaneMetrics, Direction } from './metrics.js';
import { decideService } from './service-decision.js';
import type { ServiceMetrics } from './service-metrics.js';
import { formatEndpoint, type Upstream } from './upstream.js';
import type { ListenSpec, WorkloadSpec } from './workload-spec.js';

/** What a {@link Workload} shares with every other workload of its data plane. */
export interface WorkloadInputs {
  socketOps: SocketOps;
  upstream: Upstream;
  timeouts: Readonly<Timeouts>;
  limits: Readonly<Limits>;
  logger: Logger;
  metrics: DataPlaneMetrics;
  accessLog: boolean;
  accessLogRate: number;
  adminPort: number;
  /** Service resolution: which destinations are Services, the open connections per endpoint, the per-service metrics. */
  services?: { resolver: DestinationResolver; open: OpenConnections; metrics: ServiceMetrics };
}

/** A connection refused because the resolver could not answer (stable `code`s). */
interface ResolverRefusal {
  kind: 'refuse';
  code: 'resolver-failed' | 'services-not-synced';
  reason: string;
}

/** One listener of a workload, for status. */
export interface ListenerStatus {
  role: string;
  address: string;
  port: number;
}

/**
 * One workload served by the data plane: its listeners (captured inbound, captured outbound,
 * the carrier's own), admission (state, limits), the decisions that do not need the carrier
 * (outside the mesh, plaintext allowed), and drain.
 */
export class Workload {
  readonly spec: WorkloadSpec;
  readonly #in: WorkloadInputs;
  readonly #connections: ConnectionSet;
  readonly #listeners: { role: string; bound: BoundListener[] }[] = [];
  readonly #log: Logger;
  readonly #sample: () => { pass: boolean; dropped: number };
  readonly #labels: { workload: string; carrier: string };
  readonly #inMesh: (address: string) => boolean;
  readonly #plainSource: (address: string) => boolean;
  #carrier: Carrier | undefined;
  #state: 'starting' | 'serving' | 'draining' | 'stopped' = 'starting';
  #listenersClosed: Promise<void> | undefined;
  readonly #onRotated = (cert: WorkloadCertificate) => this.#certificate(cert, 'rotated');

  constructor(spec: WorkloadSpec, inputs: WorkloadInputs) {
    this.spec = spec;
    this.#in = inputs;
    this.#labels = { workload: spec.id, carrier: spec.carrier.name };
    this.#log = inputs.logger.child({ workload: spec.id, carrier: spec.carrier.name });
    this.#sample = rateLimited(inputs.accessLogRate);
    this.#inMesh = cidrMatcher(spec.policy.outbound?.meshCidrs ?? []);
    this.#plainSource = cidrMatcher(spec.policy.inbound?.plaintextSources ?? []);
    this.#connections = new ConnectionSet((direction, delta) =>
      inputs.metrics.active.inc({ ...this.#labels, direction }, delta),
    );
  }

  /** `serving` once every listener is up; `draining` after remove; `stopped` when done. */
  get state(): 'starting' | 'serving' | 'draining' | 'stopped' {
    return this.#state;
  }

  /** Open connections per direction. */
  get active(): Readonly<Record<Direction, number>> {
    return this.#connections.counts;
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

  /**
   * Creates the carrier and opens every listener. On failure closes what it opened and throws
   * WorkloadFailedError naming the step.
   */
  async start(): Promise<void> {
    let carrier: Carrier;
    try {
      carrier = this.spec.carrier.create(this.#context());
    } catch (cause) {
      this.#state = 'stopped';
      throw new WorkloadFailedError(
        `workload ${this.spec.id}: carrier ${this.spec.carrier.name} failed to start: ${(cause as Error).message}`,
        { cause },
      );
    }
    this.#carrier = carrier;
    const { inbound, outbound } = this.spec.policy;
    try {
      if (inbound?.port !== undefined)
        await this.#open(
          'inbound',
          { ...inbound, port: inbound.port },
          (c) => this.#inbound(c),
          inbound.fixedDestination,
        );
      if (outbound)
        await this.#open(
          'outbound',
          outbound,
          (c) => this.#admit('outbound', c, () => void this.#outbound(c)),
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
          (c) => this.#admit(l.tls ? 'pending' : 'inbound', c, () => l.accept(c), l.idle !== false),
        );
    } catch (cause) {
      await this.#stopListening();
      await carrier.close();
      this.#state = 'stopped';
      throw new WorkloadFailedError(`workload ${this.spec.id}: ${(cause as Error).message}`, { cause });
    }
    this.spec.identity.on('rotated', this.#onRotated);
    this.#certificate(this.spec.identity.current);
    this.#state = 'serving';
    this.#log.info('workload serving', {
      spiffeId: this.spec.identity.current.spiffeId,
      listeners: this.listeners,
    });
  }

  /**
   * Stops accepting, lets open connections finish for up to `deadlineMs`, then resets what is
   * left (RST, so a cut transfer never looks complete). Resolves when everything is closed.
   */
  async stop(deadlineMs: number, options: { keepSeries?: () => boolean } = {}): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'draining') return;
    this.#state = 'draining';
    this.#log.info('draining', { open: this.#connections.size, deadlineMs });
    const listenersClosed = this.#stopListening();
    // server.close() gives the port back at once; its callback waits for the connections too.
    this.#listenersClosed = new Promise((resolve) => setImmediate(resolve));
    this.#carrier?.drain();
    const finished = await this.#connections.settle(deadlineMs);
    // The carrier cancels what it multiplexes (HTTP/2 streams) first; then every socket left is aborted.
    await this.#carrier?.close();
    const reset = finished ? 0 : this.#connections.resetAll();
    if (reset > 0) this.#in.metrics.drainResets.inc(this.#labels, reset);
    await listenersClosed;
    this.spec.identity.off('rotated', this.#onRotated);
    // A successor under the same id (a restarted container) owns the series by now.
    if (!options.keepSeries?.()) this.#in.metrics.certificateExpiry.remove({ workload: this.spec.id });
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

  /** Throws when the workload was stopped while it was starting (removed before it served). */
  #stillStarting(): void {
    if (this.#state !== 'starting') throw new Error('removed while starting');
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
      this.#stillStarting();
    }
    this.#listeners.push({ role, bound });
  }

  /**
   * Admission: refused while draining or over the connection limit (pending TLS handshakes are
   * not counted here: the carrier's handshake gate caps them, and they count once established).
   */
  #admit(as: Direction | 'pending', c: Accepted, handle: () => void, idle = true): void {
    const { socket } = c;
    const direction: Direction = as === 'outbound' ? 'outbound' : 'inbound';
    const code =
      this.#state !== 'serving'
        ? this.#state === 'starting'
          ? 'starting'
          : 'draining'
        : as !== 'pending' && this.#connections.counts[direction] >= this.#in.limits.maxConnections
          ? 'limit'
          : undefined;
    if (code) {
      this.report({
        direction,
        outcome: 'refused',
        code,
        source: c.client.address,
        reason: code === 'limit' ? 'connection limit reached' : `the workload is ${code}`,
      });
      socket.destroy();
      return;
    }
    this.#connections.add(socket, as);
    socket.setNoDelay(true);
    if (idle) socket.setTimeout(this.#in.timeouts.idle, () => socket.destroy());
    handle();
  }

  #beginHandshake(gate: HandshakeGate, c: Accepted): (() => void) | undefined {
    const admitted = gate.admit(c.client.address);
    if ('refused' in admitted) {
      this.#tlsFailure('inbound', admitted.refused, 'too many TLS handshakes in progress', c.client.address);
      c.socket.destroy();
      return undefined;
    }
    this.#in.metrics.pendingHandshakes.inc(this.#labels);
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      admitted.release();
      this.#in.metrics.pendingHandshakes.dec(this.#labels);
    };
  }

  #tlsFailure(direction: Direction, failure: string, reason: string, source?: string): void {
    this.#in.metrics.tlsFailures.inc({ ...this.#labels, direction, reason: failure });
    this.report({
      direction,
      outcome: 'failed',
      code: `tls-${failure}`,
      ...(source ? { source } : {}),
      reason: `TLS handshake failed: ${reason}`,
    });
  }

  /** An inbound dial to the app; the source is the peer's address only where the policy keeps it. */
  #dialApp(destination: Endpoint, client: string, signal?: AbortSignal): Promise<Socket> {
    const inbound = this.spec.policy.inbound;
    const keep = inbound?.preserveSource !== false && !inbound?.fixedDestination;
    return this.#in.upstream.dial({
      destination,
      source: keep ? client : undefined,
      target: this.spec.target,
      signal,
    });
  }

  #established(socket: Socket, direction: Direction, source: string, outer?: Duplex): boolean {
    if (outer) this.#connections.layer(socket, outer);
    if (this.#connections.counts[direction] >= this.#in.limits.maxConnections) {
      this.report({
        direction,
        outcome: 'refused',
        code: 'limit',
        source,
        reason: 'connection limit reached',
      });
      return false;
    }
    this.#connections.promote(socket, direction);
    return true;
  }

  async #outbound(c: Accepted): Promise<void> {
    const outbound = this.spec.policy.outbound!;
    const destination = { address: c.originalDestination.address, port: c.originalDestination.port };
    const decision = decideOutbound({
      destination,
      inMesh: this.#inMesh(destination.address),
      passthroughOutsideMesh: outbound.passthroughOutsideMesh === true,
      proxyPorts: this.proxyPorts,
      // The address the connection arrived on is the workload's own, listed or not: a remote
      // peer reaching 15001 directly must not make the proxy dial itself.
      ownAddresses: [...(this.spec.addresses ?? []), unmapAddress(c.socket.localAddress ?? '')],
    });
    const info = { source: c.client.address, destination: formatEndpoint(destination) };
    // A Service address is outside the mesh CIDRs: it goes to its endpoints (a loop is still refused).
    const service =
      decision.kind === 'deny' && decision.code === 'loop' ? undefined : this.#resolve(destination);
    if (service?.kind === 'service') return this.#service(c, destination, service);
    // Not known to be a Service or not: refused, never decided by the address alone (fail closed).
    if (service?.kind === 'refuse') {
      const { code, reason } = service;
      this.report({ direction: 'outbound', outcome: 'refused', code, reason, ...info });
      return void c.socket.destroy();
    }
    if (decision.kind === 'deny') {
      this.report({
        direction: 'outbound',
        outcome: 'refused',
        code: decision.code,
        reason: decision.reason,
        ...info,
      });
      return void c.socket.destroy();
    }
    if (decision.kind === 'passthrough') return this.#plain('outbound', c, destination, decision.reason);
    await this.#carrier!.outbound(c, destination);
  }

  /** The resolver's answer, or why the connection is refused without one (hot path: never throw). */
  #resolve(destination: Endpoint): ServiceDestination | ResolverRefusal | undefined {
    let answer: ReturnType<DestinationResolver['resolve']>;
    try {
      answer = this.#in.services?.resolver.resolve(destination);
    } catch (error) {
      this.#log.debug('destination resolver failed', { reason: (error as Error).message });
      return { kind: 'refuse', code: 'resolver-failed', reason: 'the destination resolver failed' };
    }
    if (answer?.kind !== 'not-synced') return answer;
    return {
      kind: 'refuse',
      code: 'services-not-synced',
      reason: 'Services are not synced yet: whether the destination is one is unknown',
    };
  }

  /** A connection to a Service address: one of its endpoints, chosen by power of two choices. */
  async #service(c: Accepted, destination: Endpoint, s: ServiceDestination): Promise<void> {
    const { open, metrics } = this.#in.services!;
    metrics.requests.inc({ service: s.service });
    const decision = decideService({
      service: s.service,
      endpoints: s.endpoints,
      passthroughOutsideMesh: this.spec.policy.outbound?.passthroughOutsideMesh === true,
      pick: (candidates) => pickEndpoints(candidates, (e) => open.load(e)),
    });
    const info = { source: c.client.address, destination: formatEndpoint(destination), service: s.service };
    if (decision.kind === 'deny') {
      this.report({
        ...info,
        direction: 'outbound',
        outcome: 'refused',
        code: decision.code,
        reason: decision.reason,
      });
      return void c.socket.destroy();
    }
    if (decision.kind === 'passthrough') {
      const release = open.hold(decision.endpoint);
      c.socket.once('close', release);
      return this.#plain('outbound', c, decision.endpoint, decision.reason, s.service);
    }
    const carrier = this.#carrier!;
    if (!carrier.routesServices) {
      const chosen = decision.attempts[0] as Endpoint;
      const release = open.hold(chosen);
      c.socket.once('close', release);
      return carrier.outbound(c, { address: chosen.address, port: chosen.port });
    }
    const route: ServiceRoute = {
      service: s.service,
      attempts: decision.attempts,
      hold: (e) => open.hold(e),
      failed: (e) => open.failed(e),
      // Counted, not logged: a hot path logs no line per connection.
      retried: () => metrics.endpointRetries.inc({ service: s.service }),
    };
    await carrier.outbound(c, destination, route);
  }

  #inbound(c: Accepted): void {
    const inbound = this.spec.policy.inbound!;
    const destination = { address: c.originalDestination.address, port: c.originalDestination.port };
    if (!inbound.fixedDestination && this.proxyPorts.includes(destination.port)) {
      // A connection aimed at one of the proxy's own ports is never relayed (no loop).
      this.report({
        direction: 'inbound',
        outcome: 'refused',
        code: 'loop',
        source: c.client.address,
        reason: `${destination.port} is the proxy's own port`,
      });
      return void c.socket.destroy();
    }
    const decision = decideInbound({
      sourceAllowedPlain: this.#plainSource(c.client.address),
      portAllowedPlain: inbound.plaintextPorts?.includes(destination.port) === true,
    });
    if (decision.kind === 'plaintext') {
      this.#admit('inbound', c, () => void this.#plain('inbound', c, destination, decision.reason));
      return;
    }
    this.#admit('pending', c, () => void this.#carrier!.inbound(c, destination));
  }

  /** Plain TCP where the policy allows it: dial the destination and relay. */
  async #plain(
    direction: Direction,
    c: Accepted,
    destination: Endpoint,
    why: string,
    service?: string,
  ): Promise<void> {
    const info = {
      source: c.client.address,
      destination: formatEndpoint(destination),
      reason: why,
      ...(service ? { service } : {}),
    };
    let upstream: Socket;
    try {
      upstream =
        direction === 'inbound'
          ? await this.#dialApp(destination, c.client.address)
          : await this.#in.upstream.dial({ destination, target: this.spec.target });
    } catch (error) {
      this.report({
        ...info,
        direction,
        outcome: 'failed',
        code: 'connect',
        reason: `connect to ${info.destination} failed: ${(error as Error).message}`,
      });
      return void c.socket.destroy();
    }
    this.#connections.add(upstream, 'held');
    if (c.socket.destroyed) return void upstream.destroy();
    await this.relay(direction, c.socket, upstream, info);
  }

  /** Joins two streams and reports the bytes moved. */
  async relay(
    direction: Direction,
    client: Duplex,
    server: Duplex,
    info: Omit<ConnectionReport, 'outcome' | 'direction'>,
  ): Promise<void> {
    const result = await splice(client, server);
    this.report({
      ...info,
      direction,
      outcome: result.error ? 'failed' : 'spliced',
      ...(result.error ? { code: 'reset', reason: result.error.message } : {}),
      up: result.aToB,
      down: result.bToA,
    });
  }

  /** Counts, publishes and (sampled) logs one connection's end. */
  report(event: ConnectionReport): void {
    const labels = { ...this.#labels, direction: event.direction };
    const m = this.#in.metrics;
    m.connections.inc({ ...labels, outcome: event.outcome });
    if (event.outcome === 'denied') m.denials.inc({ ...labels, reason: event.code ?? 'policy' });
    if (event.outcome === 'refused') m.refusals.inc({ ...labels, reason: event.code ?? 'policy' });
    if (event.up) m.bytes.inc({ ...labels, flow: 'up' }, event.up);
    if (event.down) m.bytes.inc({ ...labels, flow: 'down' }, event.down);
    // A relay reset after the endpoint was reached is the connection's end, not the Service failing.
    if (event.service && event.outcome !== 'spliced' && event.code !== 'reset')
      this.#in.services?.metrics.failures.inc({
        service: event.service,
        reason: event.code ?? event.outcome,
      });
    if (channels.connection.hasSubscribers) channels.connection.publish({ ...this.#labels, ...event });
    if (!this.#in.accessLog && event.outcome === 'spliced') return;
    const sample = this.#sample();
    if (!sample.pass) return;
    const fields: LogFields = { ...event, ...(sample.dropped ? { droppedLines: sample.dropped } : {}) };
    if (event.outcome === 'spliced' || this.#in.accessLog) this.#log.info('connection', fields);
    else this.#log.debug('connection', fields);
  }

  #certificate(cert: WorkloadCertificate, why?: string): void {
    this.#in.metrics.certificateExpiry.set({ workload: this.spec.id }, cert.notAfter.getTime() / 1000);
    if (!why) return;
    this.#log.info(`certificate ${why}`, {
      spiffeId: cert.spiffeId,
      serialNumber: cert.serialNumber,
      notAfter: cert.notAfter,
    });
    if (channels.certificate.hasSubscribers)
      channels.certificate.publish({
        workload: this.spec.id,
        spiffeId: cert.spiffeId,
        serialNumber: cert.serialNumber,
      });
  }

  #context(): CarrierContext {
    const self = this;
    const gate = new HandshakeGate(
      this.#in.limits.maxPendingHandshakes,
      this.#in.limits.maxPendingHandshakesPerSource,
    );
    return {
      workload: {
        id: this.spec.id,
        identity: this.spec.identity,
        target: this.spec.target,
        policy: this.spec.policy,
        addresses: this.spec.addresses ?? [],
      },
      upstream: this.#in.upstream,
      timeouts: this.#in.timeouts,
      limits: this.#in.limits,
      logger: this.#log,
      metrics: this.#in.metrics,
      labels: this.#labels,
      beginHandshake: (c) => this.#beginHandshake(gate, c),
      dialApp: (destination, client, signal) => this.#dialApp(destination, client, signal),
      get proxyPorts() {
        return self.proxyPorts;
      },
      report: (event) => this.report(event),
      tlsFailure: (direction, failure, reason, source) =>
        this.#tlsFailure(direction, failure, reason, source),
      track: (socket, outer) => {
        if (outer) this.#connections.layer(socket, outer);
        this.#connections.add(socket, 'held');
      },
      established: (socket, direction, source, outer) => this.#established(socket, direction, source, outer),
      replace: (connection, standIn) => this.#connections.replace(connection.socket, standIn),
      relay: (direction, client, server, info) => this.relay(direction, client, server, info),
      get draining() {
        return self.#state !== 'serving';
      },
    };
  }
}
