import type { WorkloadCertificate } from '@switchyard/mesh';
import type { ConnectionReport, OutboundFailure, RelayOutcome } from './carrier.js';
import { channels } from './diagnostics.js';
import { type LogFields, type Logger, rateLimited } from './logger.js';
import type { Direction } from './metrics.js';
import { RECENT_DENIALS, type RecentDenial } from './workload-config.js';
import type { WorkloadInputs } from './workload-inputs.js';

/** What a report adds to a connection's facts: everything but the outcome and direction. */
export type ReportInfo = Omit<ConnectionReport, 'outcome' | 'direction'>;

/**
 * Reports connections for one workload (ztunnel's `ConnectionResult`): counters, the diagnostics
 * channel and sampled access logs, written once for every carrier, with TLS failures, outbound
 * failures and the certificate gauge.
 */
export class ConnectionReporter {
  readonly #in: WorkloadInputs;
  readonly #log: Logger;
  readonly #labels: { workload: string; carrier: string };
  readonly #sample: () => { pass: boolean; dropped: number };
  /** The last denied or refused connections, newest last (introspection). */
  readonly #denials: RecentDenial[] = [];

  constructor(inputs: WorkloadInputs, log: Logger, labels: { workload: string; carrier: string }) {
    this.#in = inputs;
    this.#log = log;
    this.#labels = labels;
    this.#sample = rateLimited(inputs.accessLogRate);
  }

  /** The last {@link RECENT_DENIALS} denied or refused connections, oldest first. */
  get recentDenials(): readonly RecentDenial[] {
    return this.#denials;
  }

  #remember(event: ConnectionReport): void {
    const { direction, outcome, code, reason, source, destination, peer } = event;
    this.#denials.push({
      time: new Date().toISOString(),
      direction,
      outcome: outcome as RecentDenial['outcome'],
      ...(code ? { code } : {}),
      ...(reason ? { reason } : {}),
      ...(source ? { source } : {}),
      ...(destination ? { destination } : {}),
      ...(peer ? { peer } : {}),
    });
    if (this.#denials.length > RECENT_DENIALS) this.#denials.shift();
  }

  /** Counts, publishes and (sampled) logs one connection's end. */
  report(event: ConnectionReport): void {
    const labels = { ...this.#labels, direction: event.direction };
    const m = this.#in.metrics;
    m.connections.inc({ ...labels, outcome: event.outcome });
    if (event.outcome === 'denied') m.denials.inc({ ...labels, reason: event.code ?? 'policy' });
    if (event.outcome === 'refused') m.refusals.inc({ ...labels, reason: event.code ?? 'policy' });
    if (event.outcome === 'denied' || event.outcome === 'refused') this.#remember(event);
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

  /** How a carried connection ended: spliced when clean, failed with the outcome's code otherwise. */
  relayed(direction: Direction, outcome: RelayOutcome, info: ReportInfo): void {
    this.report({
      ...info,
      direction,
      outcome: outcome.code ? 'failed' : 'spliced',
      ...(outcome.code ? { code: outcome.code, reason: outcome.reason ?? outcome.code } : {}),
      up: outcome.up,
      down: outcome.down,
    });
  }

  /** A TLS handshake that did not succeed: counted by reason (`failure`) and reported. */
  tlsFailure(direction: Direction, failure: string, reason: string, source?: string): void {
    this.#in.metrics.tlsFailures.inc({ ...this.#labels, direction, reason: failure });
    this.report({
      direction,
      outcome: 'failed',
      code: `tls-${failure}`,
      ...(source ? { source } : {}),
      reason: `TLS handshake failed: ${reason}`,
    });
  }

  /** One failed outbound attempt, for every carrier: a denial, a TLS failure (counted), or a failed connect. */
  outboundFailed(f: OutboundFailure): void {
    if (f.kind === 'tls')
      this.#in.metrics.tlsFailures.inc({ ...this.#labels, direction: 'outbound', reason: 'handshake' });
    const { kind, code, ...info } = f;
    this.report({
      ...info,
      direction: 'outbound',
      outcome: kind === 'identity' ? 'denied' : 'failed',
      code: code ?? (kind === 'identity' ? 'policy' : kind),
    });
  }

  /** The certificate's expiry gauge, and a log line and an event when it changed (`why`). */
  certificate(cert: WorkloadCertificate, why?: string): void {
    this.#in.metrics.certificateExpiry.set(
      { workload: this.#labels.workload },
      cert.notAfter.getTime() / 1000,
    );
    if (!why) return;
    this.#log.info(`certificate ${why}`, {
      spiffeId: cert.spiffeId,
      serialNumber: cert.serialNumber,
      notAfter: cert.notAfter,
    });
    if (channels.certificate.hasSubscribers)
      channels.certificate.publish({
        workload: this.#labels.workload,
        spiffeId: cert.spiffeId,
        serialNumber: cert.serialNumber,
      });
  }
}
