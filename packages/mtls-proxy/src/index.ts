/**
 * `@switchyard/mtls-proxy` — the mTLS carrier of `@switchyard/dataplane`, and the transparent
 * mTLS sidecar built on it. It takes connections captured by any driver's `socketOps` and
 * carries them between workloads as TLS 1.3 with SPIFFE identities checked on both ends. It
 * imports no driver: give it the socket operations of the one you use.
 *
 * @example
 * ```ts
 * import { DriverRegistry } from '@switchyard/core';
 * import { startAdminServer } from '@switchyard/dataplane';
 * import { CertificateStore } from '@switchyard/mesh';
 * import { MtlsSidecar } from '@switchyard/mtls-proxy';
 *
 * const driver = await new DriverRegistry().create('tproxy');
 * const sidecar = new MtlsSidecar({
 *   socketOps: driver.socketOps,
 *   certificates: await CertificateStore.open('/var/run/secrets/workload'),
 *   inbound: { port: 15006 },
 *   outbound: { port: 15001, meshCidrs: ['10.0.0.0/8'] },
 * });
 * await sidecar.start();
 * await startAdminServer(sidecar);               // /metrics, /readyz, /healthz on 127.0.0.1:15020
 * process.once('SIGTERM', () => sidecar.drain(30_000));
 * ```
 *
 * @module
 */
import { CARRIER_API_VERSION, defineCarrier } from '@switchyard/dataplane/carrier';
import { mtlsCarrier } from './mtls-carrier.js';

export {
  type AdminServer,
  type AdminServerOptions,
  CHANNELS,
  DEFAULT_TIMEOUTS,
  type Endpoint,
  type LogLine,
  loggerFromLine,
  startAdminServer,
  type Timeouts,
} from '@switchyard/dataplane';
export { mtlsCarrier } from './mtls-carrier.js';
export { MtlsSidecar } from './mtls-sidecar.js';
export type { InboundOptions, MtlsSidecarOptions, OutboundOptions } from './options.js';

/** The registry entry of the mtls carrier. */
export const carrier = defineCarrier({
  name: 'mtls',
  apiVersion: CARRIER_API_VERSION,
  description: 'mTLS (TLS 1.3) to the destination, where its inbound capture takes it',
  create: () => mtlsCarrier(),
});

export default carrier;
