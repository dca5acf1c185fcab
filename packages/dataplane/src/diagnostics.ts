import { channel } from 'node:diagnostics_channel';

/**
 * Every diagnostics channel the data plane publishes on, named `switchyard:<component>:<event>`,
 * in one table. Publishing costs nothing unless someone subscribes:
 * `diagnostics_channel.subscribe(CHANNELS.connection, (event) => …)`.
 */
export const CHANNELS = {
  /** A connection ended or was refused: a {@link ConnectionEvent}. */
  connection: 'switchyard:dataplane:connection',
  /** A TLS handshake failed or timed out: `{ workload, direction, reason, source? }`. */
  tlsFailure: 'switchyard:dataplane:tls-failure',
  /** A workload was added, removed or failed: `{ workload, state, reason? }`. */
  workload: 'switchyard:dataplane:workload',
  /** A certificate was rotated: `{ workload, spiffeId, serialNumber }`. */
  certificate: 'switchyard:dataplane:certificate',
  /** An HBONE stream was reset or refused: `{ workload, reason }`. */
  stream: 'switchyard:hbone:stream',
} as const;

/** The channel objects, created on first use. */
export const channels = {
  connection: channel(CHANNELS.connection),
  tlsFailure: channel(CHANNELS.tlsFailure),
  workload: channel(CHANNELS.workload),
  certificate: channel(CHANNELS.certificate),
  stream: channel(CHANNELS.stream),
};
