import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { PROXY_PORTS, type SocketOps, type Target } from '@switchyard/core';
import { DEFAULT_TIMEOUTS, type Logger, silentLogger, Upstream } from '@switchyard/dataplane';
import type { AuthorizationPolicy, CertificateStore } from '@switchyard/mesh';
import { formatAuthority, type HboneAuthority } from './authority.js';
import { GatewayPlane, type GatewayPlaneOptions } from './gateway-plane.js';
import { HboneConnectError } from './hbone-client-error.js';
import type { HboneServer } from './hbone-server.js';
import type { HboneSidecar } from './hbone-sidecar.js';
import type { ReverseTunnelSettings } from './reverse-tunnel-listener.js';
import { HBONE_LIMITS } from './settings.js';

/** The port reverse tunnels are accepted on (core's {@link PROXY_PORTS}). */
export const REVERSE_TUNNEL_PORT = PROXY_PORTS.reverseTunnel;

/** Options of {@link ReverseTunnelAcceptor}: a one-workload data plane's, its identity, and who may register. */
export interface ReverseTunnelAcceptorOptions extends GatewayPlaneOptions, ReverseTunnelSettings {
  /** Default {@link REVERSE_TUNNEL_PORT}. */
  port?: number;
}

/**
 * A reverse-tunnel acceptor on its own: a one-workload data plane whose HBONE carrier serves only
 * the acceptor's listener (the data plane's handshake caps, limits, drain, rotation and metrics
 * apply to it). A sidecar that is also a gateway passes `reverseTunnel` to {@link HboneSidecar}.
 */
export class ReverseTunnelAcceptor extends GatewayPlane {
  constructor(options: ReverseTunnelAcceptorOptions) {
    const { port, authorization, ...plane } = options;
    super(plane, {
      reverseTunnel: { port: port ?? REVERSE_TUNNEL_PORT, ...(authorization ? { authorization } : {}) },
    });
  }

  /** The workload identities holding a reverse connection now. */
  get registered(): string[] {
    return this.sidecar.reverseTunnels?.registered ?? [];
  }

  get port(): number {
    return this.sidecar.port('reverse-tunnel');
  }

  /** Opens a tunnel to `destination` through the reverse connection of the workload `identity`. */
  open(identity: string, destination: HboneAuthority): Promise<Duplex> {
    const reverse = this.sidecar.reverseTunnels;
    if (!reverse) return Promise.reject(new HboneConnectError(`no reverse connection from ${identity}`, 503));
    return reverse.open(identity, destination);
  }
}

/** Options of {@link ReverseTunnelDialer}. */
export interface ReverseTunnelDialerOptions {
  socketOps: SocketOps;
  certificates: CertificateStore;
  /** The gateway's reverse-tunnel endpoint. */
  gateway: HboneAuthority;
  /** The HBONE server whose stream handling serves what arrives (authorization, dial, splice). */
  server: HboneServer;
  /** Which gateway identities we accept. Default: our trust domain. */
  authorization?: AuthorizationPolicy;
  target?: Target;
  /** First redial delay when the connection drops or a dial fails, ms; doubles per failure. Default 1000. */
  retryMs?: number;
  /** Longest redial delay, ms. Default 30000. */
  maxRetryMs?: number;
  /** Where dial failures are logged (debug). Default: nowhere. */
  logger?: Logger;
  /**
   * The dialer to use, with its identity pinning (the data plane's: `HboneSidecar.upstream`).
   * Default: one that accepts any gateway identity of our trust domain that `authorization` allows.
   */
  upstream?: Upstream;
}

/**
 * The workload side of a reverse tunnel: dials the gateway with mTLS, checks its identity, then
 * serves HBONE over that connection, so the gateway can reach this workload although nothing can
 * dial it. Redials when the connection drops, until stopped.
 */
export class ReverseTunnelDialer {
  readonly #o: ReverseTunnelDialerOptions;
  readonly #log: Logger;
  readonly #upstream: Upstream;
  #tls: TLSSocket | undefined;
  #raw: Socket | undefined;
  #stopped = false;
  #failures = 0;
  #retry: NodeJS.Timeout | undefined;

  constructor(options: ReverseTunnelDialerOptions) {
    this.#o = options;
    this.#log = options.logger ?? silentLogger;
    // The gateway is checked by `authorization` (default: our trust domain), as a pinned
    // identity would be: the dialer knows one gateway, named by its address.
    this.#upstream =
      options.upstream ??
      new Upstream({
        socketOps: options.socketOps,
        connectTimeout: DEFAULT_TIMEOUTS.connect,
        handshakeTimeout: DEFAULT_TIMEOUTS.handshake,
        identityFallback: 'trust-domain',
        logger: this.#log,
      });
  }

  /** Connects once; resolves when the gateway holds the connection. Redials from then on, until stopped. */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#tls?.destroy();
    // HTTP/2 holds the TLS socket through a stream wrapper; closing the TCP socket is what ends it.
    this.#raw?.destroy();
  }

  /** How long until the next redial: capped exponential backoff with jitter, so a fleet spreads out. */
  #delay(): number {
    const base = this.#o.retryMs ?? DEFAULT_REDIAL.firstMs;
    const capped = Math.min(
      this.#o.maxRetryMs ?? DEFAULT_REDIAL.maxMs,
      base * 2 ** Math.min(this.#failures, 16),
    );
    return capped / 2 + Math.random() * (capped / 2);
  }

  #scheduleRedial(): void {
    if (this.#stopped) return;
    const delay = this.#delay();
    this.#failures += 1;
    this.#retry = setTimeout(() => {
      this.#connect().catch((error: Error) => {
        this.#log.debug('reverse tunnel redial failed', {
          gateway: formatAuthority(this.#o.gateway),
          reason: error.message,
        });
        this.#scheduleRedial();
      });
    }, delay);
    this.#retry.unref();
  }

  async #connect(): Promise<void> {
    const { tls, raw, carried } = await this.#upstream.tls({
      peer: this.#o.gateway,
      certificates: this.#o.certificates,
      target: this.#o.target,
      alpn: ['h2'],
      authorization: this.#o.authorization,
      recordsPerTurn: HBONE_LIMITS.recordsPerCheck,
    });
    this.#failures = 0;
    tls.on('error', (error) => this.#log.debug('reverse tunnel connection error', { reason: error.message }));
    tls.once('close', () => this.#scheduleRedial());
    this.#tls = tls;
    this.#raw = raw;
    this.#o.server.serveReverse(tls, carried ? { stream: carried, raw } : undefined);
  }
}

/** Redial timing of {@link ReverseTunnelDialer}. */
export const DEFAULT_REDIAL = { firstMs: 1_000, maxMs: 30_000 } as const;
