/**
 * `@switchyard/mesh` — what Switchyard's proxies (mTLS sidecar, HBONE) share: SPIFFE workload
 * identities, a development CA, certificates that rotate from files, authorization of peer
 * identities, splicing two streams, and the proxies' Prometheus metrics.
 *
 * @example
 * ```ts
 * import { CertificateStore, initCa, issueWorkloadCertificate } from '@switchyard/mesh';
 *
 * await initCa({ dir: 'ca', trustDomain: 'cluster.local' });
 * await issueWorkloadCertificate({ caDir: 'ca', namespace: 'web', serviceAccount: 'api', outDir: 'certs/api' });
 * const store = await CertificateStore.open('certs/api');   // reloads when the files change
 * console.log(store.current.spiffeId);                      // spiffe://cluster.local/ns/web/sa/api
 * ```
 *
 * @module
 */
export {
  type AuthorizationDecision,
  type AuthorizationPolicy,
  type AuthorizationRule,
  authorize,
  defaultInboundPolicy,
  defaultOutboundPolicy,
  parseAuthorizationPolicy,
} from './authorization.js';
export { CA_FILES, CERT_FILES } from './cert-files.js';
export {
  CertificateStore,
  type CertificateStoreEvents,
  type CertificateStoreOptions,
  loadCertificateDir,
  type WorkloadCertificate,
} from './cert-store.js';
export {
  DEV_CA_VALIDITY,
  type ExistingCa,
  type InitCaOptions,
  type InitializedCa,
  type IssuedCertificate,
  type IssueOptions,
  initCa,
  inspectCa,
  issueWorkloadCertificate,
} from './dev-ca.js';
export { createProxyMetrics, type Direction, type ProxyMetrics } from './proxy-metrics.js';
export {
  checkIdentityParts,
  formatSpiffeId,
  parseSpiffeId,
  type SpiffeId,
  spiffeIdsFromSan,
} from './spiffe-id.js';
export { abort, type SpliceResult, splice } from './splice.js';
