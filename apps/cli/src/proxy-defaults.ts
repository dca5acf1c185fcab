import { DATAPLANE_PORTS, DEFAULT_LIMITS, DEFAULT_TIMEOUTS } from '@switchyard/dataplane';

/**
 * The defaults of the flags `proxy mtls` and `proxy hbone` share, as flag text, taken from the
 * data plane's own defaults so each is defined once.
 */
export const PROXY_DEFAULTS = {
  /** Port of /metrics, /ready and /healthz (Istio's merged-metrics port). */
  adminPort: String(DATAPLANE_PORTS.admin),
  /**
   * Address of the admin endpoints. The library listens on loopback; the command, which runs as a
   * pod's sidecar, listens on every interface so Prometheus and the kubelet can reach it.
   */
  adminHost: '0.0.0.0',
  /** Seconds open connections may finish after SIGTERM. */
  drainSeconds: String(DEFAULT_TIMEOUTS.drain / 1000),
  /** Most open connections per direction (`proxy mtls`). */
  maxConnections: String(DEFAULT_LIMITS.maxConnections),
  /** Longest drain accepted: a day. */
  maxDrainSeconds: 86_400,
} as const;
