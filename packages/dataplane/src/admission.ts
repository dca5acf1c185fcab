import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Accepted, StandIn } from './carrier.js';
import type { ConnectionReporter } from './connection-report.js';
import { ConnectionSet } from './connection-set.js';
import { HandshakeGate } from './handshake-gate.js';
import type { Direction } from './metrics.js';
import { SourcePenalty } from './source-penalty.js';
import type { WorkloadInputs } from './workload-inputs.js';

/** A workload's lifecycle state, as admission sees it. */
export type WorkloadState = 'starting' | 'serving' | 'draining' | 'stopped';

/**
 * Admission for one workload (linkerd's accept stage): the state and the connection limit at
 * accept, the pending-handshake caps, counting a handshaken connection as established, and the
 * set of everything held, which drain waits for and resets.
 */
export class Admission {
  readonly connections: ConnectionSet;
  readonly #in: WorkloadInputs;
  readonly #report: ConnectionReporter;
  readonly #labels: { workload: string; carrier: string };
  readonly #state: () => WorkloadState;
  readonly #gate: HandshakeGate;
  readonly #penalty: SourcePenalty;

  constructor(
    inputs: WorkloadInputs,
    report: ConnectionReporter,
    labels: { workload: string; carrier: string },
    state: () => WorkloadState,
  ) {
    this.#in = inputs;
    this.#report = report;
    this.#labels = labels;
    this.#state = state;
    this.#gate = new HandshakeGate(
      inputs.limits.maxPendingHandshakes,
      inputs.limits.maxPendingHandshakesPerSource,
    );
    this.#penalty = new SourcePenalty({
      firstMs: inputs.limits.abusePenaltyMs,
      maxMs: inputs.limits.maxAbusePenaltyMs,
      maxSources: inputs.limits.maxPendingHandshakes * 16,
    });
    this.connections = new ConnectionSet((direction, delta) =>
      inputs.metrics.active.inc({ ...labels, direction }, delta),
    );
  }

  /**
   * Refused while not serving or over the connection limit (pending TLS handshakes are not
   * counted here: the handshake gate caps them, and they count once established); else held,
   * given the idle timeout unless `idle` is false, and handed to `handle`.
   */
  admit(as: Direction | 'pending', c: Accepted, handle: () => void, idle = true): void {
    const { socket } = c;
    const direction: Direction = as === 'outbound' ? 'outbound' : 'inbound';
    const state = this.#state();
    const code =
      state !== 'serving'
        ? state === 'starting'
          ? 'starting'
          : 'draining'
        : as !== 'pending' && this.connections.counts[direction] >= this.#in.limits.maxConnections
          ? 'limit'
          : undefined;
    if (code) {
      this.#report.report({
        direction,
        outcome: 'refused',
        code,
        source: c.client.address,
        reason: code === 'limit' ? 'connection limit reached' : `the workload is ${code}`,
      });
      socket.destroy();
      return;
    }
    this.connections.add(socket, as);
    socket.setNoDelay(true);
    if (idle) socket.setTimeout(this.#in.timeouts.idle, () => socket.destroy());
    handle();
  }

  /**
   * Starts counting a TLS handshake from `c`'s client against the pending-handshake caps.
   * Returns the function that ends it (idempotent), or undefined when the caps are full: then
   * the refusal has been counted and the connection closed.
   */
  beginHandshake(c: Accepted): (() => void) | undefined {
    if (this.#penalty.refused(c.client.address)) {
      this.#in.metrics.refusals.inc({ ...this.#labels, direction: 'inbound', reason: 'abuse-penalty' });
      c.socket.destroy();
      return undefined;
    }
    const admitted = this.#gate.admit(c.client.address);
    if ('refused' in admitted) {
      this.#report.tlsFailure(
        'inbound',
        admitted.refused,
        'too many TLS handshakes in progress',
        c.client.address,
      );
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

  /**
   * A connection admitted as pending is authenticated: count it against the connection limit
   * (aborts go through `outer`, its TLS, when there is one). False when the limit is reached:
   * the refusal is reported and the caller closes the connection.
   */
  established(socket: Socket, direction: Direction, source: string, outer?: Duplex): boolean {
    if (outer) this.connections.layer(socket, outer);
    if (this.connections.counts[direction] >= this.#in.limits.maxConnections) {
      this.#report.report({
        direction,
        outcome: 'refused',
        code: 'limit',
        source,
        reason: 'connection limit reached',
      });
      return false;
    }
    this.connections.promote(socket, direction);
    return true;
  }

  /**
   * A connection from `source` was closed for abuse (GOAWAY ENHANCE_YOUR_CALM): its new
   * connections are refused before any TLS work for a penalty that grows with each strike.
   */
  penalize(source: string): number {
    return this.#penalty.strike(source);
  }

  /** Holds a socket opened for a connection already counted (an upstream leg), for drain only. */
  track(socket: Socket, outer?: Duplex): void {
    if (outer) this.connections.layer(socket, outer);
    this.connections.add(socket, 'held');
  }

  /** Holds `standIn` in the place of `c`'s socket (see {@link ConnectionSet.replace}). */
  replace(c: Accepted, standIn: StandIn): boolean {
    return this.connections.replace(c.socket, standIn);
  }
}
