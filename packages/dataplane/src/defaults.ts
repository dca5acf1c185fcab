import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_PORTS, PROXY_PORTS } from '@switchyard/core';

/**
 * The data plane's well-known ports: captured outbound (15001), captured inbound (15006),
 * HBONE (15008) and the admin endpoints (15020, Istio's merged-metrics port): the ports of core's
 * {@link PROXY_PORTS} table a workload's loop check reserves whether it listens on them or not.
 */
export const DATAPLANE_PORTS = { ...DEFAULT_PORTS, admin: PROXY_PORTS.admin } as const;

/** How long the data plane waits for each step of a connection, ms. */
export interface Timeouts {
  /** A TLS handshake, inbound or outbound. Default 5000 (a peer that does not finish is cut early). */
  handshake: number;
  /** An upstream connect. Default 10000. */
  connect: number;
  /** A connection with no traffic either way for this long is closed. Default 3600000 (1 h). */
  idle: number;
  /** How long a removed workload's connections may run on before they are reset. Default 30000. */
  drain: number;
}

/** The defaults of {@link Timeouts}. */
export const DEFAULT_TIMEOUTS: Readonly<Timeouts> = Object.freeze({
  handshake: 5_000,
  connect: DEFAULT_CONNECT_TIMEOUT_MS,
  idle: 3_600_000,
  drain: 30_000,
});

/** What one workload may hold at once; anything over is refused and counted. */
export interface Limits {
  /** Established connections per workload and direction. Default 10000. */
  maxConnections: number;
  /** TLS handshakes in progress per workload, counted apart from established ones. Default 1024. */
  maxPendingHandshakes: number;
  /** TLS handshakes in progress from one source address. Default 128. */
  maxPendingHandshakesPerSource: number;
  /**
   * A source whose connection was sent GOAWAY ENHANCE_YOUR_CALM (rapid reset, a control-frame
   * flood) is refused at accept for this long, ms, doubling per further strike. Default 1000.
   */
  abusePenaltyMs: number;
  /** The longest such penalty, ms. Default 30000. */
  maxAbusePenaltyMs: number;
}

/** The defaults of {@link Limits}. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxConnections: 10_000,
  maxPendingHandshakes: 1_024,
  maxPendingHandshakesPerSource: 128,
  abusePenaltyMs: 1_000,
  maxAbusePenaltyMs: 30_000,
});

/** Per-connection log lines allowed per second per workload before they are only counted. Default 50. */
export const DEFAULT_ACCESS_LOG_RATE = 50;

/**
 * After a Service endpoint fails (refused, timed out, a failed tunnel), for this long it counts as
 * loaded in endpoint choice: picked only when drawn against another failed one. Default 5000 ms.
 */
export const ENDPOINT_FAILURE_PENALTY_MS = 5_000;
