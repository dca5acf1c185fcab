/**
 * `@switchyard/dataplane` — one data plane for every workload on a node. A {@link DataPlane}
 * holds the shared inputs once (socket ops, identity resolver, timeouts and limits, logger,
 * metrics) and serves workloads added and removed at run time, each inside its own network with
 * its own identity, through a carrier picked by name from the {@link CarrierRegistry} (`mtls`,
 * `mtls-native`, `hbone`) or passed as a factory (`hboneCarrier()` from `@switchyard/hbone`).
 *
 * This entry point is for people who *run* a data plane. Writing a carrier? Its contract (the
 * context, the peer session, the TLS terminator) is `@switchyard/dataplane/carrier`, and its
 * compliance suite `@switchyard/dataplane/testing`.
 *
 * @example
 * ```ts
 * import { DriverRegistry } from '@switchyard/core';
 * import { DataPlane, startAdminServer, staticIdentities } from '@switchyard/dataplane';
 * import { hboneCarrier } from '@switchyard/hbone';
 * import { CertificateStore } from '@switchyard/mesh';
 *
 * const driver = await new DriverRegistry().create('tproxy');
 * const plane = new DataPlane({
 *   socketOps: driver.socketOps,
 *   identities: staticIdentities({ '10.0.0.7': ['spiffe://cluster.local/ns/web/sa/api'] }),
 * });
 * await plane.addWorkload({
 *   id: 'web/client',
 *   target: { kind: 'netns', name: 'pod-a' },
 *   identity: await CertificateStore.open('certs/client'),
 *   carrier: hboneCarrier(),
 *   policy: { inbound: { port: 15006 }, outbound: { port: 15001, meshCidrs: ['10.0.0.0/8'] } },
 * });
 * await startAdminServer(plane);                       // /metrics /healthz /readyz on 127.0.0.1:15020
 * process.once('SIGTERM', () => plane.close());
 * ```
 *
 * @module
 */

export {
  HboneTunnelError,
  UpstreamIdentityError,
  UpstreamTlsError,
  WorkloadFailedError,
  WorkloadInvalidError,
} from '@switchyard/core';
export {
  type AdminServer,
  type AdminServerOptions,
  type AdminSource,
  startAdminServer,
} from './admin-server.js';
export { authorizeInbound, type InboundPeerFacts } from './authorize-inbound.js';
export type { Carrier, CarrierFactory, ConnectionReport } from './carrier.js';
export type { CarrierCapabilities } from './carrier-definition.js';
export {
  BUILTIN_CARRIERS,
  type BuiltinCarrier,
  type BuiltinCarrierName,
  type CarrierImporter,
  CarrierRegistry,
  type CarrierRegistryOptions,
  type CarrierUnavailable,
} from './carrier-registry.js';
export { DataPlane, type DataPlaneOptions, type WorkloadStatus } from './data-plane.js';
export {
  type AuthorityDecision,
  type AuthorityFacts,
  decideAuthority,
  decideInbound,
  decideOutbound,
  type Endpoint,
  type InboundDecision,
  type InboundFacts,
  type OutboundDecision,
  type OutboundFacts,
} from './decide.js';
export {
  DATAPLANE_PORTS,
  DEFAULT_ACCESS_LOG_RATE,
  DEFAULT_LIMITS,
  DEFAULT_TIMEOUTS,
  ENDPOINT_FAILURE_PENALTY_MS,
  type Limits,
  type Timeouts,
} from './defaults.js';
export type {
  DestinationResolver,
  EndpointState,
  ServiceDestination,
  ServiceEndpoint,
  ServiceRoute,
  UnsyncedDestination,
} from './destination-resolver.js';
export { CHANNELS } from './diagnostics.js';
export { OpenConnections, type OpenConnectionsOptions, pickEndpoints } from './endpoint-picker.js';
export {
  canonicalAddress,
  checkServerIdentity,
  type IdentityFallback,
  type IdentityResolver,
  identitiesFromFile,
  type ServerIdentityDecision,
  type ServerIdentityFacts,
  singleSpiffeId,
  staticIdentities,
} from './identity.js';
export type { InboundAuthorizer, InboundRequest, InboundVerdict } from './inbound-authorization.js';
export {
  type JsonLoggerOptions,
  jsonLogger,
  LOG_LEVELS,
  type LogFields,
  type Logger,
  type LogLevel,
  rateLimited,
  silentLogger,
} from './logger.js';
export {
  type ConnectionLabels,
  createDataPlaneMetrics,
  type DataPlaneMetrics,
  type Direction,
} from './metrics.js';
export { proxyProtocolV2Header } from './proxy-protocol.js';
export {
  decideService,
  type ServiceDecision,
  type ServiceDenyCode,
  type ServiceFacts,
} from './service-decision.js';
export { createServiceMetrics, type ServiceMetrics } from './service-metrics.js';
export { type LogLine, loggerFromLine, type SidecarPlaneOptions, sidecarPlane } from './sidecar-plane.js';
export { abort, type SpliceResult, splice } from './splice.js';
export { TLS_RECORD_LIMITS, type TlsFlood, type TlsRecordLimits } from './tls-record-limits.js';
export {
  formatEndpoint,
  type PlainDial,
  type TlsDial,
  Upstream,
  type UpstreamOptions,
  type VerifiedTls,
} from './upstream.js';
export type { ListenerStatus } from './workload-config.js';
export {
  type CertificateSummary,
  RECENT_DENIALS,
  type RecentDenial,
  summarizePem,
  type WorkloadConfig,
} from './workload-config.js';
export type { InboundPolicy, ListenSpec, OutboundPolicy, WorkloadPolicy } from './workload-policy.js';
export type { WorkloadSpec } from './workload-spec.js';
