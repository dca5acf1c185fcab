/** The defaults of the flags `proxy mtls` and `proxy hbone` share, defined once for both. */
export const PROXY_DEFAULTS = {
  /** Port of /metrics, /ready and /healthz (Istio's merged-metrics port). */
  adminPort: '15020',
  /** Address of the admin endpoints: every interface, so Prometheus can scrape the pod. */
  adminHost: '0.0.0.0',
  /** Seconds open connections may finish after SIGTERM. */
  drainSeconds: '30',
  /** Most open connections per direction (`proxy mtls`). */
  maxConnections: '10000',
  /** Longest drain accepted: a day. */
  maxDrainSeconds: 86_400,
} as const;
