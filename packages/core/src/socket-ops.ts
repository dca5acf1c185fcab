import type { Server, Socket } from 'node:net';
import type { Endpoint } from './endpoint.js';
import type { IpFamily } from './policy.js';
import type { Target } from './target.js';

/** An IP endpoint with its family. */
export interface SocketAddress extends Endpoint {
  family: IpFamily;
}

/** Options for {@link SocketOps.listen}. */
export interface TransparentListenOptions {
  /** Port to listen on (a policy's inbound or outbound proxy port); 0 picks a free one. */
  port: number;
  /** Address to bind. Default: the family's wildcard (`0.0.0.0` or `::`). */
  host?: string;
  /** Family of the listener. Default `ipv4`, or the family of `host`. */
  family?: IpFamily;
  /** Listen backlog. Default 511. */
  backlog?: number;
  /**
   * Open the listener inside this target's network (a pod's namespace) rather than the process's
   * own, as a node-level proxy serving several pods does. Drivers that cannot throw
   * `TargetUnsupportedError`. Default: the process's own network.
   */
  target?: Target;
}

/** How long a dial may take to connect when its caller names no timeout: 10 s. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Options for {@link SocketOps.dial}. */
export interface DialOptions {
  /** Where to connect. */
  destination: { address: string; port: number };
  /**
   * Bind this source address (and port, if given) before connecting. With a transparent driver
   * this may be a non-local address, such as the original client's, so the server sees the real
   * client. Drivers whose `preservesSource` is false ignore a non-local source and use their own.
   */
  source?: { address: string; port?: number };
  /** Socket mark for the dial. Default: the driver's bypass mark, so the dial is never captured again. */
  mark?: number;
  /** Abort the connect. */
  signal?: AbortSignal;
  /** Give up connecting after this many milliseconds. Default {@link DEFAULT_CONNECT_TIMEOUT_MS}. */
  timeout?: number;
  /** Dial from inside this target's network; see {@link TransparentListenOptions.target}. */
  target?: Target;
}

/**
 * The data-plane half of a driver: how a proxy listens for captured connections, finds where a
 * captured connection was going, and connects upstream without being captured again.
 * Proxies use these and never import a specific driver.
 */
export interface SocketOps {
  /** True when captured connections arrive with their original destination recoverable. */
  readonly transparent: boolean;
  /** True when {@link SocketOps.dial} can use a non-local source address (the original client's). */
  readonly preservesSource: boolean;
  /**
   * True when {@link SocketOps.dial} without a `target` or `source` is a plain connect(2) from
   * this process's own network namespace that ignores `mark`: a native engine running in the
   * process may make that same connect itself. Absent: only `dial` dials.
   */
  readonly inProcessDial?: boolean;
  /**
   * Starts a listener that accepts captured connections on `options.port`.
   * Resolves once the server is listening; the caller owns it and closes it. Accepted sockets are
   * half-open capable (`allowHalfOpen`), so a proxy can carry one direction's end across.
   */
  listen(options: TransparentListenOptions): Promise<Server>;
  /**
   * Where an accepted connection was originally going. For a connection that was not captured
   * (dialled to the listener directly) this is the listener's own address.
   */
  originalDestination(socket: Socket): SocketAddress;
  /** Connects upstream so the connection is not captured again. Resolves once connected; the socket is half-open capable. */
  dial(options: DialOptions): Promise<Socket>;
}
