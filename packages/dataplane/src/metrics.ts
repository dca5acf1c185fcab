import { Counter, Gauge, Registry } from 'prom-client';

/** Traffic direction: captured outbound, or arriving inbound. */
export type Direction = 'inbound' | 'outbound';

/** The labels every per-connection series carries. */
export type ConnectionLabels = 'workload' | 'carrier' | 'direction';

/**
 * The data plane's Prometheus metrics, one registry for every workload it serves, each series
 * labelled with `workload`, `carrier` and `direction`.
 */
export interface DataPlaneMetrics {
  registry: Registry;
  /** Connections handled, by outcome: `spliced`, `denied`, `refused`, `failed`. */
  connections: Counter<ConnectionLabels | 'outcome'>;
  /** Connections open now. */
  active: Gauge<ConnectionLabels>;
  /** Bytes moved; `flow` up is client → server. */
  bytes: Counter<ConnectionLabels | 'flow'>;
  /** TLS handshakes in progress. */
  pendingHandshakes: Gauge<'workload' | 'carrier'>;
  /** Engine threads of the carrier seen stalled (their loop did not turn for the stall threshold). */
  engineStalls: Counter<'workload' | 'carrier'>;
  /** Engine threads of the carrier stalled now. */
  engineThreadsStalled: Gauge<'workload' | 'carrier'>;
  /** TLS handshakes that failed, by reason (`timeout`, `untrusted`, `no-certificate`, `protocol`, `shed`…). */
  tlsFailures: Counter<ConnectionLabels | 'reason'>;
  /** Connections reset for what the peer sent after the TLS handshake: `key-updates`, `empty-records`. */
  tlsFloods: Counter<ConnectionLabels | 'reason'>;
  /** Peers refused by authorization or identity pinning, by reason. */
  denials: Counter<ConnectionLabels | 'reason'>;
  /** Connections or streams refused before any work, by reason (`limit`, `draining`, `outside-mesh`, `authority`…). */
  refusals: Counter<ConnectionLabels | 'reason'>;
  /**
   * HBONE streams reset by the peer or by us, by reason; `direction` says which side of ours the
   * connection was (`inbound`: a client of our server, `outbound`: a server our client dialled).
   */
  streamResets: Counter<'workload' | 'reason' | 'direction'>;
  /** Connections cut at the drain deadline. */
  drainResets: Counter<'workload' | 'carrier'>;
  /** When the workload's certificate expires (Unix time). */
  certificateExpiry: Gauge<'workload'>;
  /** Workloads by state: `serving`, `failed`. */
  workloads: Gauge<'state'>;
}

/** Makes the metrics, in a registry of their own (several data planes may share a process). */
export function createDataPlaneMetrics(prefix = 'switchyard'): DataPlaneMetrics {
  const registers = [new Registry()];
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
    new Counter<L>({ name: `${prefix}_${name}`, help, labelNames, registers });
  const gauge = <L extends string>(name: string, help: string, labelNames: L[]) =>
    new Gauge<L>({ name: `${prefix}_${name}`, help, labelNames, registers });
  const base: ConnectionLabels[] = ['workload', 'carrier', 'direction'];
  return {
    registry: registers[0] as Registry,
    connections: counter('connections_total', 'Connections handled, by outcome', [...base, 'outcome']),
    active: gauge('connections_active', 'Connections open now', base),
    bytes: counter('bytes_total', 'Bytes moved; flow "up" is client to server', [...base, 'flow']),
    pendingHandshakes: gauge('tls_handshakes_pending', 'TLS handshakes in progress', ['workload', 'carrier']),
    engineStalls: counter(
      'engine_thread_stalls_total',
      'Engine threads seen stalled (no loop turn for the threshold)',
      ['workload', 'carrier'],
    ),
    engineThreadsStalled: gauge('engine_threads_stalled', 'Engine threads stalled now', [
      'workload',
      'carrier',
    ]),
    tlsFailures: counter('tls_failures_total', 'TLS handshakes that failed, by reason', [...base, 'reason']),
    tlsFloods: counter(
      'tls_floods_total',
      'Connections reset for too many KeyUpdates or TLS records without data',
      [...base, 'reason'],
    ),
    denials: counter('authorization_denials_total', 'Peers refused by authorization or identity pinning', [
      ...base,
      'reason',
    ]),
    refusals: counter('refusals_total', 'Connections or streams refused before any work, by reason', [
      ...base,
      'reason',
    ]),
    streamResets: counter('hbone_stream_resets_total', 'HBONE streams reset, by reason', [
      'workload',
      'reason',
      'direction',
    ]),
    drainResets: counter('drain_resets_total', 'Connections cut at the drain deadline', [
      'workload',
      'carrier',
    ]),
    certificateExpiry: gauge(
      'certificate_expiry_timestamp_seconds',
      'When the workload certificate in use expires (Unix time)',
      ['workload'],
    ),
    workloads: gauge('workloads', 'Workloads served, by state', ['state']),
  };
}
