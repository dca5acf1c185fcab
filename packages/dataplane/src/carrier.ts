import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { IpFamily, SocketAddress, Target } from '@switchyard/core';
import type { AuthorizationPolicy, CertificateStore } from '@switchyard/mesh';
import type { Endpoint } from './decide.js';
import type { Limits, Timeouts } from './defaults.js';
import type { ServiceRoute } from './destination-resolver.js';
import type { Logger } from './logger.js';
import type { DataPlaneMetrics, Direction } from './metrics.js';
import type { CompiledPeerCheck } from './server-admission.js';
import type { CompiledStreamCheck } from './stream-admission.js';
import type { Upstream } from './upstream.js';
import type { WorkloadPolicy } from './workload-policy.js';

/** An accepted connection with the facts known at accept time (linkerd's `orig_dst`). */
export interface Accepted {
  socket: Socket;
  /** The client's address and port (IPv4-mapped addresses unmapped). */
  client: Endpoint;
  /** Where the client was going: the captured destination, or the listener's own address. */
  originalDestination: SocketAddress;
}

/** What a carrier reports for each connection or stream it finished or refused. */
export interface ConnectionReport {
  direction: Direction;
  /** `spliced` (carried and closed), `denied` (identity or authorization), `refused` (policy, limit), `failed` (TLS, connect, peer died). */
  outcome: 'spliced' | 'denied' | 'refused' | 'failed';
  /** A stable word for metrics when the outcome is not `spliced` (`limit`, `timeout`, `untrusted`…). */
  code?: string;
  reason?: string;
  source?: string;
  destination?: string;
  peer?: string;
  up?: number;
  down?: number;
  /** The destination Service (`namespace/name`), when the connection went to one. */
  service?: string;
  /** What a tunnel's peer said the original client was (HBONE's `forwarded`): logged only. */
  forwardedFor?: string;
  /** The policy that denied it (`namespace/name`), when the data plane's authorizer named one. */
  policy?: string;
}

/**
 * What holds a connection's place in the data plane once its descriptor is elsewhere (a native
 * engine's): a few fields instead of a Node socket. The carrier destroys it when the connection
 * ends; the data plane resets it at a drain deadline, which must reset the connection.
 */
export interface StandIn {
  readonly destroyed: boolean;
  /** Called once, when the stand-in is destroyed (however). */
  once(event: 'close', listener: () => void): unknown;
  /** The connection ended: let go of its place. */
  destroy(): void;
  /** Reset the connection (RST), then let go of its place. */
  resetAndDestroy(): void;
}

/**
 * How a delivered connection ended: bytes each way (`up` from the peer towards the app or the
 * destination), and a `code` with its `reason` when it did not end cleanly.
 */
export interface RelayOutcome {
  up: number;
  down: number;
  code?: string;
  reason?: string;
}

/**
 * A peer that finished a carrier's inbound handshake (relay-native's `PeerHandshake`, or a
 * TLS socket the carrier terminated). The data plane decides what happens to it: it authorizes
 * `peer`, then either delivers the connection to the app or refuses it.
 */
export interface PeerSession {
  /** The peer's one SPIFFE ID; undefined when it presented none or several (`identityError` says which). */
  peer: string | undefined;
  /** Why there is no `peer`. */
  identityError?: string;
  /** The secure stream over the accepted socket (its TLS), which drain aborts through. */
  outer?: Duplex;
  /**
   * Carries bytes between the peer and `app` until both ends close; resolves with how it ended,
   * or with undefined when the peer had already gone (nothing carried, nothing to report).
   */
  deliver(app: Socket): Promise<RelayOutcome | undefined>;
  /** Closes the connection; no byte reaches the app. */
  refuse(): Promise<void>;
}

/**
 * A handshake that did not complete (the carrier closed the connection, or the data plane does).
 * `failure` is the metric reason (`timeout`, `untrusted`, `no-certificate`, `protocol`, `closed`,
 * `handshake`), or `identity` when the peer's certificate names no single SPIFFE ID (a denial).
 */
export interface HandshakeFailure {
  failure: string;
  reason: string;
}

/** What the data plane tells a carrier's inbound handshake about the connection. */
export interface HandshakeOptions {
  /**
   * Plain TCP is accepted on this port from this source (PeerAuthentication PERMISSIVE): before
   * the handshake, look at the client's first byte. One that is not a TLS handshake record, or
   * none within the handshake timeout (a protocol whose server speaks first), ends the handshake
   * with `failure: NOT_TLS`, the connection left open with every byte still to be read by Node
   * (the data plane then authorizes it as plain TCP). A TLS client is handshaken as without it,
   * and any failure after that first byte is a failure: never plain. Default false: no looking,
   * TLS only.
   */
  plainAccepted?: boolean;
}

/** What a carrier's inbound handshake ends with. */
export type HandshakeResult = { ok: true; session: PeerSession } | ({ ok: false } & HandshakeFailure);

/** The authorization of an inbound peer, made once by the data plane for every carrier. */
export interface InboundAuthorization {
  allowed: boolean;
  /** `identity` (no single SPIFFE ID) or `policy` when refused. */
  code?: 'identity' | 'policy';
  reason: string;
  /** The policy that decided (`namespace/name`), when the data plane's authorizer named one. */
  policy?: string;
}

/** A listener a carrier serves itself, beside the captured inbound and outbound ports. */
export interface CarrierListener {
  /** A name for logs and status (`hbone`). */
  name: string;
  /**
   * Connections start with this handshake. The data plane admits them as pending, gates them
   * against the pending-handshake caps, runs it, authorizes the peer, counts an authorized one
   * as established and then calls {@link CarrierListener.accept} with the session and the
   * authorization.
   */
  handshake?(connection: Accepted): Promise<HandshakeResult>;
  /**
   * Who may connect (with a handshake). Default: the workload's inbound authorization. A
   * gateway's listener names its own (the reverse-tunnel acceptor: workloads of our trust domain).
   */
  authorization?: AuthorizationPolicy;
  /**
   * The handshake authenticates nobody (a gateway reading a ClientHello it does not terminate):
   * it is gated and timed like a TLS handshake, but no identity is asked for or authorized.
   */
  anonymous?: boolean;
  /**
   * A refused peer is handed to {@link CarrierListener.accept} too, to be answered by the
   * protocol (HBONE's 401 per stream); by default the data plane reports and closes it.
   */
  answersDenied?: boolean;
  /**
   * Close an accepted connection after the idle timeout. Default true. A carrier whose protocol
   * reads the socket in native code (HTTP/2) sets false and keeps idleness itself: the socket's
   * own timer would never see that traffic and would cut busy connections.
   */
  idle?: boolean;
  port: number;
  /** Families to listen on. Default: both (IPv6 skipped where the target has none). */
  families?: IpFamily[];
  host?: string;
  /** Takes each accepted connection after the data plane's admission (and handshake, when there is one). */
  accept(connection: Accepted, session?: PeerSession, authorization?: InboundAuthorization): void;
}

/** One tunnel (an HTTP/2 stream) a peer opened towards this workload's app, for {@link CarrierContext.serveStream}. */
export interface InboundStream {
  /** The authenticated peer of the connection the stream runs on. */
  peer: string | undefined;
  /** The TCP peer's address: the only source the app ever sees. */
  source: string;
  /** The local address the connection arrived on. */
  arrivedOn: string;
  /** Where the peer asks to go; undefined when what it sent is not `address:port`. */
  authority: Endpoint | undefined;
  /** Logged only: what the peer says the original client was. */
  forwardedFor?: string;
  /** Aborted when the peer gives up on the stream (a reset while its dial is in flight). */
  signal: AbortSignal;
  /**
   * The stream is refused: answer it (HBONE: `status`, else 401 for `denied`, 503 for the rest).
   * The refusal has been reported.
   */
  refuse(refusal: { outcome: 'denied' | 'refused' | 'failed'; code: string; status?: number }): void;
  /**
   * The app answered on `app`: accept the stream and give the byte stream to carry to it
   * (undefined when the stream is already gone; then nothing is reported).
   */
  open(app: Socket): Promise<Duplex | undefined>;
  /**
   * Instead of `open`: the carrier accepts the stream and carries its bytes to `app` itself (a
   * native engine), resolving with how the tunnel ended (undefined when the stream was already
   * gone; then nothing is reported). The data plane reports the outcome as for any relay.
   */
  carry?(app: Socket): Promise<RelayOutcome | undefined>;
}

/** A failed outbound attempt, accounted by {@link CarrierContext.outboundFailed}. */
export interface OutboundFailure {
  /** `identity` (the server is not who it should be: a denial), `tls` (the handshake failed), or `connect`. */
  kind: 'identity' | 'tls' | 'connect';
  /** The metric word; default `policy` for identity, `tls`, `connect`. */
  code?: string;
  reason: string;
  source: string;
  destination: string;
  peer?: string;
  service?: string;
}

/** The workload a carrier serves, as its context names it. */
export interface CarrierWorkload {
  id: string;
  target?: Target | undefined;
  policy: WorkloadPolicy;
  /** Addresses the workload owns (for HBONE's authority rule). */
  addresses: readonly string[];
}

/** What {@link CarrierContext.decideStream} decides a stream by: an {@link InboundStream}'s facts. */
export type StreamFacts = Pick<InboundStream, 'peer' | 'source' | 'arrivedOn' | 'authority' | 'forwardedFor'>;

/**
 * The data plane's verdict on a stream before any dial: allowed (dial `destination`; report a
 * relay with `report`), or refused (answer `status`, else 401 for `denied` and 503 for the rest;
 * `report` holds what is reported, its code and reason included).
 */
export type StreamVerdict =
  | { allowed: true; destination: Endpoint; report: Omit<ConnectionReport, 'outcome' | 'direction'> }
  | {
      allowed: false;
      outcome: 'denied' | 'refused';
      code: string;
      status?: number;
      report: Omit<ConnectionReport, 'outcome' | 'direction'>;
    };

/** What the data plane gives a carrier for one workload: every shared input, built once. */
export interface CarrierContext {
  workload: CarrierWorkload & { identity: CertificateStore };
  upstream: Upstream;
  timeouts: Readonly<Timeouts>;
  limits: Readonly<Limits>;
  logger: Logger;
  metrics: DataPlaneMetrics;
  /** The labels of this workload's series. */
  labels: { workload: string; carrier: string };
  /** Counts, publishes and (sampled) logs one finished or refused connection. */
  report(event: ConnectionReport): void;
  /** Reports how a connection the carrier relayed itself ended (a native engine's result). */
  relayed(
    direction: Direction,
    outcome: RelayOutcome,
    info: Omit<ConnectionReport, 'outcome' | 'direction'>,
  ): void;
  /** Accounts one failed outbound attempt (a TLS failure is counted by reason too); the carrier closes the connection. */
  outboundFailed(failure: OutboundFailure): void;
  /**
   * Serves one tunnel a peer opened on a connection the carrier holds (HBONE's CONNECT stream):
   * authorizes the peer, checks the authority, dials the app, carries the bytes and reports,
   * exactly as for a connection. Resolves when the stream is done.
   */
  serveStream(stream: InboundStream): Promise<void>;
  /**
   * {@link CarrierContext.serveStream}'s decision alone, before any dial: asked for a stream an
   * engine decided from its table (see `compileStreams`), whose verdict is held against it.
   */
  decideStream?(stream: StreamFacts): StreamVerdict;
  /**
   * Holds a socket the carrier opened (an upstream leg of a connection already counted) until it
   * closes, so drain can abort it at the deadline (through `outer`, the TLS layered on it, when
   * there is one). It does not count against the connection limit.
   */
  track(socket: Socket, outer?: Duplex): void;
  /**
   * The carrier closed a connection from `source` for abuse (HBONE's GOAWAY ENHANCE_YOUR_CALM):
   * that source's new connections are refused at accept, before any TLS work, for a penalty
   * that doubles with each strike (`limits.abusePenaltyMs` up to `limits.maxAbusePenaltyMs`).
   * Returns the penalty, ms.
   */
  penalize(source: string): number;
  /**
   * The carrier took the connection's descriptor away (a native engine relays it now) and will
   * close Node's socket: from now on `standIn` is held in its place, counted the same, waited for
   * by drain and reset at the deadline. Returns false when the socket is no longer held (it
   * closed first): then nothing is held for the connection.
   */
  replace(connection: Accepted, standIn: StandIn): boolean;
  /** Joins two streams both ways and reports the result; resolves when both are closed. */
  relay(
    direction: Direction,
    client: Duplex,
    server: Duplex,
    info: Omit<ConnectionReport, 'outcome' | 'direction'>,
  ): Promise<void>;
  /** Whether the workload is draining: stop starting new work. */
  readonly draining: boolean;
  /**
   * The inbound authorization of captured connections compiled for a handshake that decides
   * peers where it runs (a native engine's admission table); undefined while it cannot be (the
   * data plane's authorizer decides). The data plane still authorizes every peer it is handed.
   */
  compileInbound?(): CompiledPeerCheck | undefined;
  /**
   * {@link CarrierContext.serveStream}'s decisions compiled for an engine that decides HBONE
   * streams where it runs (a native engine's admission table); undefined while they cannot be.
   * A carrier that decides a stream so reports it afterwards (`report`, `relayed`) as
   * `serveStream` would; every stream the table cannot decide still goes to `serveStream`.
   */
  compileStreams?(): CompiledStreamCheck | undefined;
}

/** One workload's carrier: moves accepted connections' bytes to the peer and back. */
export interface Carrier {
  /** Listeners the carrier serves itself (HBONE's 15008). */
  readonly listeners?: readonly CarrierListener[];
  /**
   * Carriers that take a {@link ServiceRoute} (endpoints with their identities, a retry). Others
   * get a Service's chosen endpoint as the destination, pinned by the identity resolver.
   */
  readonly routesServices?: boolean;
  /**
   * A captured outbound connection to a mesh destination: carry it to the peer. `route`: the
   * destination is a Service, go to its endpoints (only for carriers that route services).
   */
  outbound(connection: Accepted, destination: Endpoint, route?: ServiceRoute): Promise<void>;
  /**
   * The inbound handshake of a captured connection that is not plaintext-allowed: authenticate
   * the peer and return its session; the data plane authorizes, dials the app and delivers. A
   * carrier without one (HBONE: peers come to its own listener) has captured inbound refused,
   * or delivered as plain TCP where the authorizer accepts it (PERMISSIVE).
   */
  handshake?(connection: Accepted, options?: HandshakeOptions): Promise<HandshakeResult>;
  /**
   * False while the carrier cannot serve although it runs (an engine thread of its own is
   * stalled): the data plane is not ready then, and `/readyz` answers 503. Default: true.
   */
  readonly healthy?: boolean;
  /** Stop starting new work (HTTP/2 GOAWAY); open connections may finish. */
  drain(): void;
  /** Frees everything the carrier holds; what is still open is reset. */
  close(): Promise<void>;
}

/** The context of a carrier that carries no identity: the same, its workload without one. */
export type AnonymousCarrierContext = Omit<CarrierContext, 'workload'> & { workload: CarrierWorkload };

/**
 * A carrier, as a factory (libp2p's transports): importing a carrier package does nothing, the
 * data plane calls `create` once per workload. A mesh carrier gets the workload's identity; an
 * `anonymous` one (a plain forwarder, such as metadata proxying's) has and needs none, and its
 * workloads may be added without one.
 */
export type CarrierFactory =
  | { readonly name: string; readonly anonymous?: false; create(context: CarrierContext): Carrier }
  | { readonly name: string; readonly anonymous: true; create(context: AnonymousCarrierContext): Carrier };
