import {
  createServer as createPlainServer,
  createSecureServer,
  type Http2SecureServer,
  constants as h2,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { SocketOps, Target } from '@switchyard/core';
import {
  type AuthorizationPolicy,
  authorize,
  type CertificateStore,
  createProxyMetrics,
  defaultInboundPolicy,
  type ProxyMetrics,
  parseSpiffeId,
  type SpiffeId,
  spiffeIdsFromSan,
  splice,
  type WorkloadCertificate,
} from '@switchyard/mesh';
import { type HboneAuthority, parseAuthority, parseForwardedFor } from './authority.js';
import { HBONE_PORT, HBONE_SETTINGS, HBONE_STATUS } from './settings.js';

/** Options of {@link HboneServer}. */
export interface HboneServerOptions {
  socketOps: SocketOps;
  certificates: CertificateStore;
  /** Port to listen on. Default 15008. */
  port?: number;
  /** Address to listen on. Default: the IPv4 wildcard. */
  host?: string;
  /** Peers allowed to open tunnels. Default: our trust domain and namespace. */
  authorization?: AuthorizationPolicy;
  /** Open sockets inside this target's network (node-level proxy). */
  target?: Target;
  /** Dial the target from the client's address (from `forwarded`) where the driver can. Default true. */
  preserveSource?: boolean;
  /** Send every tunnel here instead of its `:authority` (benchmarks). */
  fixedDestination?: { address: string; port: number };
  /** Upstream connect timeout, ms. Default 10000. */
  connectTimeoutMs?: number;
  metrics?: ProxyMetrics;
  /** Called once per tunnel with what happened (an access log); lifecycle logging is the caller's. */
  onTunnel?: (event: TunnelEvent) => void;
}

/** One tunnel the server handled. */
export interface TunnelEvent {
  direction: 'inbound';
  outcome: 'spliced' | 'denied' | 'refused' | 'failed';
  status: number;
  peer?: string;
  authority?: string;
  source?: string;
}

const contextOptions = (cert: WorkloadCertificate) => ({ cert: cert.chain, key: cert.key, ca: cert.bundle });

/**
 * The HBONE server (ztunnel's inbound on 15008): mTLS with ALPN h2, every tunnel an HTTP/2
 * CONNECT stream. A stream is answered 200 only after the peer is authorized and the upstream
 * connect succeeded; 400 for a bad request (not CONNECT, bad `:authority`), 401 for a denied peer
 * (no byte reaches the target), 503 when the target cannot be reached.
 */
export class HboneServer {
  readonly metrics: ProxyMetrics;
  readonly #o: HboneServerOptions;
  readonly #h2: Http2SecureServer;
  readonly #sessions = new Set<ServerHttp2Session>();
  readonly #raw = new Set<Socket>();
  #listener: Server | undefined;
  #self: SpiffeId;
  readonly #onRotated = (cert: WorkloadCertificate) => {
    this.#h2.setSecureContext(contextOptions(cert));
    this.#self = parseSpiffeId(cert.spiffeId) as SpiffeId;
  };

  constructor(options: HboneServerOptions) {
    this.#o = options;
    this.metrics = options.metrics ?? createProxyMetrics();
    this.#self = parseSpiffeId(options.certificates.current.spiffeId) as SpiffeId;
    this.#h2 = createSecureServer({
      ...contextOptions(options.certificates.current),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.3',
      ALPNProtocols: ['h2'],
      allowHTTP1: false,
      settings: {
        initialWindowSize: HBONE_SETTINGS.streamWindow,
        maxFrameSize: HBONE_SETTINGS.maxFrameSize,
        maxConcurrentStreams: HBONE_SETTINGS.maxConcurrentStreams,
      },
    });
    this.#h2.on('session', (session: ServerHttp2Session) => {
      this.#sessions.add(session);
      session.once('close', () => this.#sessions.delete(session));
      session.on('error', () => {});
      session.setLocalWindowSize(HBONE_SETTINGS.connectionWindow);
    });
    this.#h2.on(
      'stream',
      (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void this.#onStream(stream, headers),
    );
    this.#h2.on('tlsClientError', () => this.metrics.handshakeFailures.inc({ direction: 'inbound' }));
  }

  /**
   * Serves HBONE over a TLS connection this side dialled (a reverse tunnel, H2R): the peer that
   * accepted it opens CONNECT streams, which are handled exactly like those on 15008, the peer
   * being authorized by the certificate it presented to our dial.
   */
  serveReverse(tls: TLSSocket): void {
    // One small HTTP/2 server per reverse connection: its stream handler knows who dialled, which
    // the session's socket wrapper cannot tell (it has no TLS peer certificate).
    const peer = spiffeIdsFromSan(tls.getPeerCertificate()?.subjectaltname)[0];
    const server = createPlainServer({
      settings: {
        initialWindowSize: HBONE_SETTINGS.streamWindow,
        maxFrameSize: HBONE_SETTINGS.maxFrameSize,
        maxConcurrentStreams: HBONE_SETTINGS.maxConcurrentStreams,
      },
    });
    server.on('session', (session: ServerHttp2Session) => {
      this.#sessions.add(session);
      session.once('close', () => this.#sessions.delete(session));
      session.on('error', () => {});
    });
    server.on(
      'stream',
      (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) =>
        void this.#onStream(stream, headers, peer ?? ''),
    );
    server.emit('connection', tls);
  }

  /** Open HTTP/2 connections (one per peer's pooled TLS connection). */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** The port listened on. */
  get port(): number {
    return (this.#listener?.address() as { port: number } | null)?.port ?? 0;
  }

  /** Starts listening through the driver's socket ops. */
  async start(): Promise<void> {
    this.#listener = await this.#o.socketOps.listen({
      port: this.#o.port ?? HBONE_PORT,
      ...(this.#o.host ? { host: this.#o.host } : {}),
      ...(this.#o.target ? { target: this.#o.target } : {}),
    });
    this.#listener.on('connection', (socket: Socket) => {
      this.#raw.add(socket);
      socket.once('close', () => this.#raw.delete(socket));
      socket.setNoDelay(true);
      socket.on('error', () => {});
      this.#h2.emit('connection', socket);
    });
    this.#o.certificates.on('rotated', this.#onRotated);
  }

  /** Stops accepting, sends GOAWAY on every connection, and closes them after `deadlineMs`. */
  async close(deadlineMs = 0): Promise<void> {
    this.#o.certificates.off('rotated', this.#onRotated);
    const closed = new Promise<void>((r) => (this.#listener ? this.#listener.close(() => r()) : r()));
    for (const s of this.#sessions) s.close(); // GOAWAY: open streams may finish
    const until = Date.now() + deadlineMs;
    while (this.#sessions.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    for (const s of this.#sessions) s.destroy();
    // A peer's half-closed TCP connection would hold the listener open: close what is left.
    for (const s of this.#raw) s.destroy();
    await closed;
  }

  #deny(
    stream: ServerHttp2Stream,
    status: number,
    outcome: 'denied' | 'refused' | 'failed',
    peer?: string,
  ): void {
    this.metrics.connections.inc({ direction: 'inbound', outcome });
    this.#o.onTunnel?.({ direction: 'inbound', outcome, status, ...(peer ? { peer } : {}) });
    if (outcome === 'denied') this.metrics.authorizationDenials.inc({ direction: 'inbound' });
    if (!stream.destroyed && !stream.headersSent) stream.respond({ ':status': status }, { endStream: true });
  }

  async #onStream(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    knownPeer?: string,
  ): Promise<void> {
    stream.on('error', () => {});
    const method = headers[h2.HTTP2_HEADER_METHOD];
    // POST mode (from the hbone project): for infrastructure that forwards only ordinary requests,
    // the tunnel is a POST naming its target in `x-tun`, with mTLS end to end inside the stream.
    const post = method === 'POST';
    if (!post && method !== 'CONNECT') return this.#deny(stream, HBONE_STATUS.badRequest, 'refused');
    const authority = parseAuthority(
      (post ? headers['x-tun'] : headers[h2.HTTP2_HEADER_AUTHORITY]) as string | undefined,
    );
    if (!authority) return this.#deny(stream, HBONE_STATUS.badRequest, 'refused');
    if (post) return this.#postTunnel(stream, headers, authority);
    const tls = stream.session?.socket as TLSSocket | undefined;
    const peer =
      knownPeer !== undefined
        ? knownPeer || undefined
        : spiffeIdsFromSan(tls?.getPeerCertificate()?.subjectaltname)[0];
    const decision = authorize(this.#o.authorization ?? defaultInboundPolicy(this.#self), this.#self, peer);
    if (!decision.allowed) return this.#deny(stream, HBONE_STATUS.denied, 'denied', peer);
    await this.#dialAndSplice(stream, stream, headers, authority, peer);
  }

  /**
   * POST mode: answer 200 at once (an intermediary may hold the outer connection), then terminate
   * the workloads' own mTLS inside the stream and authorize that inner identity.
   */
  async #postTunnel(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    authority: HboneAuthority,
  ): Promise<void> {
    stream.respond({ ':status': HBONE_STATUS.ok });
    const inner = createTlsServer({
      ...contextOptions(this.#o.certificates.current),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.3',
      handshakeTimeout: 10_000,
    });
    const secured = await new Promise<TLSSocket | undefined>((resolve) => {
      inner.once('secureConnection', resolve);
      inner.once('tlsClientError', () => resolve(undefined));
      inner.emit('connection', stream);
    });
    if (!secured) {
      this.metrics.handshakeFailures.inc({ direction: 'inbound' });
      this.#report('denied', HBONE_STATUS.denied);
      return void stream.destroy();
    }
    const peer = spiffeIdsFromSan(secured.getPeerCertificate()?.subjectaltname)[0];
    const decision = authorize(this.#o.authorization ?? defaultInboundPolicy(this.#self), this.#self, peer);
    if (!decision.allowed) {
      this.metrics.authorizationDenials.inc({ direction: 'inbound' });
      this.#report('denied', HBONE_STATUS.denied, peer);
      secured.destroy();
      return void stream.destroy();
    }
    await this.#dialAndSplice(stream, secured, headers, authority, peer);
  }

  #report(outcome: 'denied' | 'failed', status: number, peer?: string): void {
    this.metrics.connections.inc({ direction: 'inbound', outcome });
    this.#o.onTunnel?.({ direction: 'inbound', outcome, status, ...(peer ? { peer } : {}) });
  }

  /** Dials the target and splices it with `carrier` (the stream itself, or the inner TLS in POST mode). */
  async #dialAndSplice(
    stream: ServerHttp2Stream,
    carrier: Duplex,
    headers: IncomingHttpHeaders,
    authority: HboneAuthority,
    peer: string | undefined,
  ): Promise<void> {
    const post = carrier !== stream;
    const client = parseForwardedFor(headers.forwarded);
    const keepSource =
      this.#o.preserveSource !== false &&
      this.#o.socketOps.preservesSource &&
      client &&
      !this.#o.fixedDestination;
    let upstream: Socket;
    try {
      upstream = await this.#o.socketOps.dial({
        destination: this.#o.fixedDestination ?? authority,
        ...(keepSource ? { source: { address: client.address } } : {}),
        ...(this.#o.target ? { target: this.#o.target } : {}),
        timeout: this.#o.connectTimeoutMs ?? 10_000,
      });
    } catch {
      if (post) {
        this.#report('failed', HBONE_STATUS.unreachable, peer);
        return void carrier.destroy();
      }
      return this.#deny(stream, HBONE_STATUS.unreachable, 'failed');
    }
    if (stream.destroyed) {
      upstream.destroy();
      return;
    }
    upstream.setNoDelay(true);
    if (!post) stream.respond({ ':status': HBONE_STATUS.ok });
    this.metrics.active.inc({ direction: 'inbound' });
    await splice(carrier, upstream);
    this.metrics.active.dec({ direction: 'inbound' });
    this.metrics.connections.inc({ direction: 'inbound', outcome: 'spliced' });
    this.#o.onTunnel?.({
      direction: 'inbound',
      outcome: 'spliced',
      status: HBONE_STATUS.ok,
      ...(peer ? { peer } : {}),
      authority: `${authority.address}:${authority.port}`,
      ...(client ? { source: client.address } : {}),
    });
    // An HTTP/2 stream keeps no byte counts; the plain upstream socket does.
    this.metrics.bytes.inc({ direction: 'inbound', flow: 'up' }, upstream.bytesWritten);
    this.metrics.bytes.inc({ direction: 'inbound', flow: 'down' }, upstream.bytesRead);
  }
}
