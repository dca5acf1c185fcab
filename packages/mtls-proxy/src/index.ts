/**
 * `@switchyard/mtls-proxy` — the transparent mTLS sidecar. It takes connections captured by any
 * driver's `socketOps` and carries them between workloads as TLS 1.3 with SPIFFE identities
 * checked on both ends. It imports no driver: give it the socket operations of the one you use.
 *
 * @example
 * ```ts
 * import { DriverRegistry } from '@switchyard/core';
 * import { CertificateStore } from '@switchyard/mesh';
 * import { MtlsSidecar, startAdminServer } from '@switchyard/mtls-proxy';
 *
 * const driver = await new DriverRegistry().create('tproxy');
 * const sidecar = new MtlsSidecar({
 *   socketOps: driver.socketOps,
 *   certificates: await CertificateStore.open('/var/run/secrets/workload'),
 *   inbound: { port: 15006 },
 *   outbound: { port: 15001, meshCidrs: ['10.0.0.0/8'] },
 * });
 * await sidecar.start();
 * await startAdminServer(sidecar);               // /metrics, /ready, /healthz on :15020
 * process.once('SIGTERM', () => sidecar.drain(30_000));
 * ```
 *
 * @module
 */
export { type AdminServerOptions, type AdminTarget, startAdminServer } from './admin-server.js';
export { type ConnectionEvent, connectionChannel } from './connection-events.js';
export { MtlsSidecar } from './mtls-sidecar.js';
export {
  DEFAULT_TIMEOUTS,
  type Endpoint,
  type InboundOptions,
  type LogLine,
  type MtlsSidecarOptions,
  type OutboundOptions,
  type Timeouts,
} from './options.js';
