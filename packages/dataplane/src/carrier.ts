import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { IpFamily, SocketAddress, Target } from '@switchyard/core';
import type { CertificateStore } from '@switchyard/mesh';
import type { Endpoint } from './decide.js';
import type { Limits, Timeouts } from './defaults.js';
import type { ServiceRoute } from './destination-resolver.js';
import type { Logger } from './logger.js';
import type { DataPlaneMetrics, Direction } from './metrics.js';
import type { Upstream } from './upstream.js';
import type { WorkloadPolicy } from './workload-spec.js';

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

/** A listener a carrier serves itself, beside the captured inbound and outbound ports. */
export interface CarrierListener {
  /** A name for logs and status (`hbone`). */
  name: string;
  /** Connections start with a TLS handshake: admitted as pending, counted once {@link CarrierContext.established}. */
  tls?: boolean;
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
  /** Takes each accepted connection after the data plane's admission. */
  accept(connection: Accepted): void;
}

/** What the data plane gives a carrier for one workload: every shared input, built once. */
export interface CarrierContext {
  workload: {
    id: string;
    identity: CertificateStore;
    target?: Target | undefined;
    policy: WorkloadPolicy;
    /** Addresses the workload owns (for HBONE's authority rule). */
    addresses: readonly string[];
  };
  upstream: Upstream;
  timeouts: Readonly<Timeouts>;
  limits: Readonly<Limits>;
  logger: Logger;
  metrics: DataPlaneMetrics;
  /** The labels of this workload's series. */
  labels: { workload: string; carrier: string };
  /**
   * Starts counting a TLS handshake from `connection`'s client against the pending-handshake
   * caps. Returns the function that ends it (call it once the handshake is over, however it
   * ended), or undefined when the caps are full: then the refusal has been counted and the
   * connection closed.
   */
  beginHandshake(connection: Accepted): (() => void) | undefined;
  /**
   * Dials the workload's app for an inbound connection, from `client` (the peer's address) when
   * the policy keeps sources, inside the workload's network.
   */
  dialApp(destination: Endpoint, client: string, signal?: AbortSignal): Promise<Socket>;
  /** The data plane's own ports on this workload: never dialled on a peer's behalf. */
  proxyPorts: readonly number[];
  /** Counts, publishes and (sampled) logs one finished or refused connection. */
  report(event: ConnectionReport): void;
  /**
   * A TLS handshake that did not succeed (`failure`: timeout, no-certificate, untrusted, protocol,
   * closed, pending-limit, pending-per-source, handshake): counted by reason and reported.
   */
  tlsFailure(direction: Direction, failure: string, reason: string, source?: string): void;
  /**
   * Holds a socket the carrier opened (an upstream leg of a connection already counted) until it
   * closes, so drain can abort it at the deadline (through `outer`, the TLS layered on it, when
   * there is one). It does not count against the connection limit.
   */
  track(socket: Socket, outer?: Duplex): void;
  /**
   * A connection that arrived with a TLS handshake to do (admitted as pending) is now
   * authenticated: count it against the connection limit. False when the limit is reached (the
   * refusal is reported; the carrier closes the connection).
   */
  established(socket: Socket, direction: Direction, source: string, outer?: Duplex): boolean;
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
  /** A captured inbound connection that is not plaintext-allowed: authenticate the peer, then deliver. */
  inbound(connection: Accepted, destination: Endpoint): Promise<void>;
  /** Stop starting new work (HTTP/2 GOAWAY); open connections may finish. */
  drain(): void;
  /** Frees everything the carrier holds; what is still open is reset. */
  close(): Promise<void>;
}

/**
 * A carrier, as a factory (libp2p's transports): importing a carrier package does nothing, the
 * data plane calls `create` once per workload.
 */
export interface CarrierFactory {
  readonly name: string;
  create(context: CarrierContext): Carrier;
}
