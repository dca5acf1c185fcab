import type { SocketOps } from '@switchyard/core';
import { DataPlane } from './data-plane.js';
import type { Limits, Timeouts } from './defaults.js';
import type { IdentityFallback, IdentityResolver } from './identity.js';
import type { LogFields, Logger, LogLevel } from './logger.js';
import type { DataPlaneMetrics } from './metrics.js';

/** A log line as the sidecars' `log` callback takes it. */
export interface LogLine {
  level: 'info' | 'warn' | 'error';
  msg: string;
  [field: string]: unknown;
}

/** Adapts a `log(line)` callback to a {@link Logger} (debug lines are dropped). */
export function loggerFromLine(log: (line: LogLine) => void, base: LogFields = {}): Logger {
  const at = (level: Exclude<LogLevel, 'debug'>) => (msg: string, fields?: LogFields) =>
    log({ ...base, ...fields, level, msg });
  return {
    debug: () => {},
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => loggerFromLine(log, { ...base, ...fields }),
  };
}

/** The options every one-workload sidecar shares (`MtlsSidecar`, `HboneSidecar`). */
export interface SidecarPlaneOptions {
  socketOps: SocketOps;
  /** Which identity each destination must present. Default: none, and any of our trust domain is accepted. */
  identities?: IdentityResolver;
  /** With `identities`: what to accept from destinations it does not know. Default `refuse`. */
  identityFallback?: IdentityFallback;
  /** Lifecycle log (and per-connection lines with `accessLog`). Default: JSON lines on stderr. */
  log?: (line: LogLine) => void;
  accessLog?: boolean;
  metrics?: DataPlaneMetrics;
  timeouts?: Partial<Timeouts>;
  /** Pending-handshake and connection limits (`maxConnections` wins). Default: the data plane's. */
  limits?: Partial<Limits>;
  /** Most connections open at once, per direction. Default: the data plane's (10000). */
  maxConnections?: number;
  /** Socket mark of upstream dials. Default: the driver's. */
  bypassMark?: number;
  /**
   * The port the sidecar's admin endpoints listen on, when not the well-known one: a proxy port,
   * refused to peers like every other (HBONE 503, mTLS closed). Default `DATAPLANE_PORTS.admin`.
   */
  adminPort?: number;
}

/**
 * The one-workload data plane behind a sidecar. Without an identity resolver it accepts any
 * server identity of its trust domain, as the sidecars always have: that weaker choice is made
 * here, explicitly, and documented on both sidecars.
 */
export function sidecarPlane(o: SidecarPlaneOptions, component: string): DataPlane {
  return new DataPlane({
    socketOps: o.socketOps,
    ...(o.identities
      ? { identities: o.identities, identityFallback: o.identityFallback ?? 'refuse' }
      : { identityFallback: 'trust-domain' }),
    ...(o.log ? { logger: loggerFromLine(o.log, { component }) } : {}),
    ...(o.metrics ? { metrics: o.metrics } : {}),
    ...(o.timeouts ? { timeouts: o.timeouts } : {}),
    limits: { ...o.limits, ...(o.maxConnections ? { maxConnections: o.maxConnections } : {}) },
    ...(o.bypassMark !== undefined ? { bypassMark: o.bypassMark } : {}),
    ...(o.adminPort !== undefined ? { adminPort: o.adminPort } : {}),
    accessLog: o.accessLog === true,
  });
}
