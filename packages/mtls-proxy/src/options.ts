import type { IpFamily, SocketOps, Target } from '@switchyard/core';
import type { AuthorizationPolicy, CertificateStore, ProxyMetrics } from '@switchyard/mesh';

/** An address:port. */
export interface Endpoint {
  address: string;
  port: number;
}

/** The inbound half: terminate mTLS from peers, authorize them, hand plain TCP to the app. */
export interface InboundOptions {
  /** Port captured inbound connections arrive on. */
  port: number;
  /** Address to listen on. Default: the wildcard of each family. */
  host?: string;
  /** Families to listen on. Default both (IPv6 is skipped with a log line if the host has none). */
  families?: IpFamily[];
  /** Which peers may connect. Default: our trust domain and namespace. */
  authorization?: AuthorizationPolicy;
  /** Sources allowed to connect in plain TCP (e.g. the node's kubelet for probes), as CIDRs. Default none. */
  plaintextSources?: string[];
  /** Local ports that accept plain TCP from anyone (e.g. a health port). Default none. */
  plaintextPorts?: number[];
  /** Send every connection here instead of its original destination (benchmarks, tests without capture). */
  fixedDestination?: Endpoint;
  /** Connect to the app with the client's address as source, when the driver can. Default true. */
  preserveSource?: boolean;
}

/** The outbound half: take captured plain TCP, open mTLS to the original destination, verify the server. */
export interface OutboundOptions {
  /** Port captured outbound connections arrive on. */
  port: number;
  host?: string;
  families?: IpFamily[];
  /** Destinations inside the mesh, which get mTLS. Default none: every destination is outside. */
  meshCidrs?: string[];
  /** Which server identities we accept. Default: any identity of our trust domain. */
  authorization?: AuthorizationPolicy;
  /** Let connections to destinations outside the mesh through in plain TCP. Default false: refuse them. */
  passthroughOutsideMesh?: boolean;
  /** Send every connection here instead of its original destination (benchmarks, tests without capture). */
  fixedDestination?: Endpoint;
}

/** Limits that keep one proxy from being held up or exhausted. */
export interface Timeouts {
  /** TLS handshake, ms. Default 10000. */
  handshake: number;
  /** Upstream connect, ms. Default 10000. */
  connect: number;
  /** A connection with no traffic either way for this long is closed, ms. Default 3600000 (1 h). */
  idle: number;
}

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
  /** Most connections open at once, per direction; more are refused. Default 10000. */
  maxConnections?: number;
  /** Metrics to count into. Default: a new registry. */
  metrics?: ProxyMetrics;
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

/** The defaults of {@link Timeouts}. */
export const DEFAULT_TIMEOUTS: Timeouts = { handshake: 10_000, connect: 10_000, idle: 3_600_000 };
