import { type ClientHttp2Session, constants as h2, connect as h2connect } from 'node:http2';
import type { Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { PROXY_PORTS, type SocketOps, type Target } from '@switchyard/core';
import { DEFAULT_TIMEOUTS, type Logger, silentLogger, singleSpiffeId, Upstream } from '@switchyard/dataplane';
import {
  type AuthorizationPolicy,
  authorize,
  type CertificateStore,
  defaultOutboundPolicy,
  parseSpiffeId,
  type SpiffeId,
  spiffeIdsFromSan,
} from '@switchyard/mesh';
import { formatAuthority, type HboneAuthority } from './authority.js';
import { awaitTunnel, HboneConnectError } from './hbone-client-error.js';
import type { HboneServer } from './hbone-server.js';
import { keepAlive } from './keepalive.js';
import { HBONE_SETTINGS } from './settings.js';

/** The port reverse tunnels are accepted on (core's {@link PROXY_PORTS}). */
export const REVERSE_TUNNEL_PORT = PROXY_PORTS.reverseTunnel;

const peerIdentity = (tls: TLSSocket) =>
  singleSpiffeId(spiffeIdsFromSan(tls.getPeerCertificate()?.subjectaltname)).id;

/** Options of {@link ReverseTunnelAcceptor}. */
export interface ReverseTunnelAcceptorOptions {
  socketOps: SocketOps;
  certificates: CertificateStore;
  port?: number;
  host?: string;
  target?: Target;
  /** Which workloads may register. Default: our trust domain. */
  authorization?: AuthorizationPolicy;
  /** Where per-connection failures are logged (debug). Default: nowhere. */
  logger?: Logger;
}

/**
 * The gateway side of reverse tunnels (H2R, from the hbone project): workloads that cannot be
 * dialled (behind NAT) dial in here with mTLS and then *serve* HTTP/2 on that connection; the
 * gateway keeps one such connection per workload identity and opens CONNECT streams through it.
 */
export class ReverseTunnelAcceptor {
  readonly #o: ReverseTunnelAcceptorOptions;
  readonly #log: Logger;
  readonly #sessions = new Map<string, ClientHttp2Session>();
  #listener: Server | undefined;

  constructor(options: ReverseTunnelAcceptorOptions) {
    this.#o = options;
    this.#log = options.logger ?? silentLogger;
  }

  /** The workload identities holding a reverse connection now. */
  get registered(): string[] {
    return [...this.#sessions.keys()];
  }

  get port(): number {
    return (this.#listener?.address() as { port: number } | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    const cert = this.#o.certificates.current;
    const tlsServer = createTlsServer({
      cert: cert.chain,
      key: cert.key,
      ca: cert.bundle,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.3',
      ALPNProtocols: ['h2'],
      handshakeTimeout: DEFAULT_TIMEOUTS.handshake,
    });
    tlsServer.on('secureConnection', (tls: TLSSocket) => this.#register(tls));
    this.#listener = await this.#o.socketOps.listen({
      port: this.#o.port ?? REVERSE_TUNNEL_PORT,
      ...(this.#o.host ? { host: this.#o.host } : {}),
      ...(this.#o.target ? { target: this.#o.target } : {}),
    });
    this.#listener.on('connection', (s: Socket) => {
      s.on('error', (error) => this.#log.debug('reverse tunnel socket error', { reason: error.message }));
      tlsServer.emit('connection', s);
    });
  }

  /** Opens a tunnel to `destination` through the reverse connection of the workload `identity`. */
  async open(identity: string, destination: HboneAuthority): Promise<Duplex> {
    const session = this.#sessions.get(identity);
    if (!session) throw new HboneConnectError(`no reverse connection from ${identity}`, 503);
    const stream = session.request(
      { [h2.HTTP2_HEADER_METHOD]: 'CONNECT', [h2.HTTP2_HEADER_AUTHORITY]: formatAuthority(destination) },
      { endStream: false },
    );
    await awaitTunnel(stream, identity, formatAuthority(destination), DEFAULT_TIMEOUTS.connect);
    return stream;
  }

  async close(): Promise<void> {
    for (const s of this.#sessions.values()) s.destroy();
    this.#sessions.clear();
    await new Promise<void>((r) => (this.#listener ? this.#listener.close(() => r()) : r()));
  }

  #register(tls: TLSSocket): void {
    const identity = peerIdentity(tls);
    const self = parseSpiffeId(this.#o.certificates.current.spiffeId) as SpiffeId;
    if (
      !authorize(this.#o.authorization ?? defaultOutboundPolicy(self), self, identity).allowed ||
      !identity ||
      tls.alpnProtocol !== 'h2'
    ) {
      tls.destroy();
      return;
    }
    // The dialled side serves HTTP/2: here we are its client, over the connection it opened.
    const session = h2connect('https://reverse.hbone', {
      createConnection: () => tls,
      settings: {
        initialWindowSize: HBONE_SETTINGS.streamWindow,
        maxFrameSize: HBONE_SETTINGS.maxFrameSize,
        enablePush: false,
      },
    });
    keepAlive(session, this.#log);
    session.on('error', (error) =>
      this.#log.debug('reverse tunnel session error', { identity, reason: error.message }),
    );
    session.once('connect', () => session.setLocalWindowSize(HBONE_SETTINGS.connectionWindow));
    this.#sessions.get(identity)?.close(); // a workload's newer connection replaces its older one
    this.#sessions.set(identity, session);
    const forget = () => {
      if (this.#sessions.get(identity) === session) this.#sessions.delete(identity);
    };
    session.once('close', forget);
    // The session does not notice its wrapped socket going away (it stays half-open); the socket does.
    const gone = () => {
      forget();
      session.destroy();
      tls.destroy();
    };
    tls.once('end', gone);
    tls.once('close', gone);
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
    const { tls, raw } = await this.#upstream.tls({
      peer: this.#o.gateway,
      certificates: this.#o.certificates,
      target: this.#o.target,
      alpn: ['h2'],
      authorization: this.#o.authorization,
    });
    this.#failures = 0;
    tls.on('error', (error) => this.#log.debug('reverse tunnel connection error', { reason: error.message }));
    tls.once('close', () => this.#scheduleRedial());
    this.#tls = tls;
    this.#raw = raw;
    this.#o.server.serveReverse(tls);
  }
}

/** Redial timing of {@link ReverseTunnelDialer}. */
export const DEFAULT_REDIAL = { firstMs: 1_000, maxMs: 30_000 } as const;
