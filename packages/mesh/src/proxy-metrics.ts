import { Counter, Gauge, Registry } from 'prom-client';

/** Traffic direction as the metrics label it: captured outbound, or arriving inbound. */
export type Direction = 'inbound' | 'outbound';

/** The Prometheus metrics every Switchyard proxy exports, in a registry of its own. */
export interface ProxyMetrics {
  registry: Registry;
  connections: Counter<'direction' | 'outcome'>;
  active: Gauge<'direction'>;
  bytes: Counter<'direction' | 'flow'>;
  handshakeFailures: Counter<'direction'>;
  authorizationDenials: Counter<'direction'>;
  certificateExpiry: Gauge;
}

/** Makes a fresh set of proxy metrics (one registry per proxy, so several can run in one process). */
export function createProxyMetrics(prefix = 'switchyard'): ProxyMetrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    connections: new Counter({
      name: `${prefix}_connections_total`,
      help: 'Connections handled, by direction and outcome (spliced, denied, refused, failed)',
      labelNames: ['direction', 'outcome'],
      registers,
    }),
    active: new Gauge({
      name: `${prefix}_connections_active`,
      help: 'Connections open now',
      labelNames: ['direction'],
      registers,
    }),
    bytes: new Counter({
      name: `${prefix}_bytes_total`,
      help: 'Bytes moved; flow "up" is client to server, "down" server to client',
      labelNames: ['direction', 'flow'],
      registers,
    }),
    handshakeFailures: new Counter({
      name: `${prefix}_tls_handshake_failures_total`,
      help: 'TLS handshakes that failed',
      labelNames: ['direction'],
      registers,
    }),
    authorizationDenials: new Counter({
      name: `${prefix}_authorization_denials_total`,
      help: 'Peers refused by the authorization policy',
      labelNames: ['direction'],
      registers,
    }),
    certificateExpiry: new Gauge({
      name: `${prefix}_certificate_expiry_timestamp_seconds`,
      help: 'When the workload certificate in use expires (Unix time)',
      registers,
    }),
  };
}
