import type { SocketOps, Target } from '@switchyard/core';
import type {
  DataPlaneMetrics,
  IdentityFallback,
  IdentityResolver,
  InboundPolicy,
  Limits,
  OutboundPolicy,
  Timeouts,
} from '@switchyard/dataplane';
import type { CertificateStore } from '@switchyard/mesh';

/** The inbound half: terminate mTLS from peers, authorize them, hand plain TCP to the app. */
export type InboundOptions = InboundPolicy;

/** The outbound half: take captured plain TCP, open mTLS to the original destination, verify the server. */
export type OutboundOptions = OutboundPolicy;

/** Everything an {@link MtlsSidecar} needs. */
export interface MtlsSidecarOptions {
  /** The capture driver's socket operations (any driver's: the sidecar imports none). */
  socketOps: SocketOps;
  /** The workload's certificate, rotated from files. */
  certificates: CertificateStore;
  inbound?: InboundOptions;
  outbound?: OutboundOptions;
  /** Open the sidecar's sockets inside this target's network (a node-level proxy). Default: our own. */
  target?: Target;
  timeouts?: Partial<Timeouts>;
  /** Socket mark of the sidecar's upstream dials, which capture lets through. Default: the driver's (0x539 on Linux). */
  bypassMark?: number;
  /** Most connections open at once, per direction; more are refused. Default: the data plane's (10000). */
  maxConnections?: number;
  /** Pending-handshake and connection limits (`maxConnections` above wins). Default: the data plane's. */
  limits?: Partial<Limits>;
  /** Metrics to count into. Default: a new registry. */
  metrics?: DataPlaneMetrics;
  /** Which identity each destination must present. Default: none, and any of our trust domain is accepted. */
  identities?: IdentityResolver;
  /** With `identities`: what to accept from destinations it does not know. Default `refuse`. */
  identityFallback?: IdentityFallback;
  /** Lifecycle log (and per-connection lines when `accessLog` is on). Default: JSON lines on stderr. */
  log?: (line: LogLine) => void;
  /** Also log one line per connection (peer identity, destination, bytes). Default false. */
  accessLog?: boolean;
}

/** A structured log line. */
export interface LogLine {
  level: 'info' | 'warn' | 'error';
  msg: string;
  [field: string]: unknown;
}
