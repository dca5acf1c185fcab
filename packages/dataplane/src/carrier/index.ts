/**
 * `@switchyard/dataplane/carrier` — what a carrier author needs: the carrier contract, the
 * peer session a carrier's inbound handshake returns, and the pieces a carrier builds on (the
 * TLS terminator, the upstream dialer's types, the relay). The data plane drives every
 * connection (admit → gate → handshake → authorize → dial → deliver → report); a carrier only
 * handshakes and moves bytes. Prove a carrier with `@switchyard/dataplane/testing`.
 *
 * @example
 * ```ts
 * import { type CarrierFactory, defineCarrier, tlsSession, TlsTerminator } from '@switchyard/dataplane/carrier';
 *
 * export default defineCarrier({
 *   name: 'my-tls',
 *   create: (context) => {
 *     const terminator = new TlsTerminator({ certificate: context.workload.identity.current, handshakeTimeout: context.timeouts.handshake });
 *     return {
 *       handshake: (c) => new Promise((resolve) => terminator.accept(c.socket, {
 *         failed: (failure, reason) => resolve({ ok: false, failure, reason }),
 *         secure: (tls) => resolve({ ok: true, session: tlsSession(c.socket, tls) }),
 *       })),
 *       outbound: async (c) => void c.socket.destroy(),
 *       drain: () => undefined,
 *       close: async () => undefined,
 *     };
 *   },
 * });
 * ```
 *
 * @module
 */

export type {
  Accepted,
  AnonymousCarrierContext,
  Carrier,
  CarrierContext,
  CarrierFactory,
  CarrierListener,
  CarrierWorkload,
  ConnectionReport,
  HandshakeFailure,
  HandshakeOptions,
  HandshakeResult,
  InboundAuthorization,
  InboundStream,
  OutboundFailure,
  PeerSession,
  RelayOutcome,
  StandIn,
  StreamFacts,
  StreamVerdict,
} from '../carrier.js';
export {
  CARRIER_API_VERSION,
  type CarrierCapabilities,
  type CarrierDefinition,
  defineCarrier,
} from '../carrier-definition.js';
export { ConnectionSet } from '../connection-set.js';
export type { Endpoint } from '../decide.js';
export type { Limits, Timeouts } from '../defaults.js';
export type { ServiceEndpoint, ServiceRoute } from '../destination-resolver.js';
export { HandshakeGate } from '../handshake-gate.js';
export { type ServerIdentityDecision, singleSpiffeId } from '../identity.js';
export { compileInboundPolicy } from '../inbound-admission.js';
export { type BoundListener, type ListenOptions, listen, unmapAddress } from '../listen.js';
export type { LogFields, Logger } from '../logger.js';
export type { DataPlaneMetrics, Direction } from '../metrics.js';
export { outboundFailure } from '../outbound-failure.js';
export { spliceOutcome } from '../relay.js';
export {
  type CompiledPeerCheck,
  type CompiledServerCheck,
  compileServerCheck,
} from '../server-admission.js';
export { type FirstByte, NOT_TLS, sniffFirstByte, TLS_HANDSHAKE_RECORD } from '../sniff.js';
export { abort } from '../splice.js';
export { type CompiledStreamCheck, canonicalAddress } from '../stream-admission.js';
export { reportTlsFloods } from '../tls-flood-report.js';
export { guardTlsRecords } from '../tls-record-guard.js';
export { TLS_RECORD_LIMITS, type TlsFlood, type TlsRecordLimits } from '../tls-record-limits.js';
export { tlsSession } from '../tls-session.js';
export {
  classify as classifyTlsFailure,
  type TlsFailure,
  type TlsOutcome,
  TlsTerminator,
  type TlsTerminatorOptions,
} from '../tls-terminator.js';
export { TlsTruncatedError, TruncationGuard } from '../truncation-guard.js';
export { formatEndpoint, type Upstream, type VerifiedTls } from '../upstream.js';
export type { WorkloadPolicy } from '../workload-policy.js';
