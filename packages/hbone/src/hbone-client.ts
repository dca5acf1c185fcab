import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  constants as h2,
  connect as h2connect,
} from 'node:http2';
import type { Duplex } from 'node:stream';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { SocketOps, Target } from '@switchyard/core';
import {
  DEFAULT_TIMEOUTS,
  type IdentityFallback,
  type IdentityResolver,
  type Logger,
  silentLogger,
  type TlsFlood,
  Upstream,
} from '@switchyard/dataplane';
import {
  type AuthorizationPolicy,
  type CertificateStore,
  parseSpiffeId,
  type SpiffeId,
  spiffeIdsFromSan,
} from '@switchyard/mesh';
import { formatAuthority, forwardedFor, type HboneAuthority } from './authority.js';
import { ControlFrameBudget } from './control-frame-budget.js';
import { awaitTunnel, HboneConnectError, lostBeforeAnswer } from './hbone-client-error.js';
import { keepAlive } from './keepalive.js';

export { HboneConnectError };

import { HBONE_LIMITS, HBONE_PORT, HBONE_SETTINGS } from './settings.js';
import { poolKey, TunnelPools } from './tunnel-pools.js';

/** Options of {@link HboneClient}. */
export interface HboneClientOptions {
  /** The data plane's dialer (pinning, timeouts, bypass mark). Or give `socketOps` and identity options. */
  upstream?: Upstream;
  socketOps?: SocketOps;
  /** Which identity each peer must present (with `socketOps`). */
  identities?: IdentityResolver;
  /** What to accept from peers `identities` does not know: must be chosen when there is no resolver. */
  identityFallback?: IdentityFallback;
  certificates: CertificateStore;
  /** Allow rules for server identities, after pinning. Default: our trust domain. */
  authorization?: AuthorizationPolicy;
  /** Open the pool's connections inside this target's network. */
  target?: Target;
  /** Close a pooled connection after this long without a stream, ms. Default 5 minutes (ztunnel's). */
  idleTimeoutMs?: number;
  /** Where failures of pooled connections are logged (debug). Default: nowhere. */
  logger?: Logger;
  /**
   * A peer crossed a TLS record limit (`TLS_RECORD_LIMITS`): its connection is reset whether or
   * not this is given; count it.
   */
  onTlsFlood?: (kind: TlsFlood, detail: string) => void;
  /**
   * A peer sent more than the control-frame budget allows (`HBONE_LIMITS`): its connection is
   * sent GOAWAY ENHANCE_YOUR_CALM and closed (its tunnels with it) whether or not this is given.
   */
  onControlFrameFlood?: (peer: string) => void;
}

/** What one tunnel asks for. */
export interface TunnelRequest {
  /** The original destination, sent as `:authority`. */
  destination: HboneAuthority;
  /** The HBONE peer to reach it through. Default: the destination's address on port 15008. */
  peer?: HboneAuthority;
  /** The client's address, sent as `forwarded: for=`. */
  client?: HboneAuthority;
  /**
   * The identities the peer must present, known for this tunnel (a Service endpoint's pod).
   * Default: what the identity resolver expects of the peer's address. Pooled per identity set.
   */
  identities?: readonly string[];
  /** Workload metadata for the `baggage` header, e.g. `{ 'k8s.namespace.name': 'web' }`. */
  baggage?: Record<string, string>;
  /** W3C trace context to propagate. */
  traceparent?: string;
  /**
   * `connect` (default): an HTTP/2 CONNECT stream, as ztunnel. `post`: a POST naming the target in
   * `x-tun`, with mTLS end to end inside the stream, for infrastructure that forwards only requests.
   */
  mode?: 'connect' | 'post';
}

/** How long a GOAWAY ENHANCE_YOUR_CALM may take to leave before its connection is destroyed, ms. */
const CALM_GRACE_MS = 100;

/** Tunnel errors from a pooled connection that had served before and broke before any answer. */
const staleConnection = new WeakSet<Error>();

interface Pooled {
  session: ClientHttp2Session;
  key: string;
  streams: number;
  /** Tunnels the peer answered on it: a connection that served before may have gone stale since. */
  answered: number;
  /** The SPIFFE ID the peer presented (checked) when the connection opened. */
  peer: string;
  idleTimer?: NodeJS.Timeout;
}

/** Streams a pooled connection may carry: the peer's limit, at most HBONE's. */
const streamLimit = (p: Pooled) =>
  Math.min(
    p.session.remoteSettings.maxConcurrentStreams ?? HBONE_SETTINGS.maxConcurrentStreams,
    HBONE_SETTINGS.maxConcurrentStreams,
  );

const baggageHeader = (b: Record<string, string>) =>
  Object.entries(b)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join(',');

/**
 * The HBONE client: each tunnel is one HTTP/2 CONNECT stream on a pooled mTLS connection to the
 * peer's port 15008. Connections are pooled by (source identity, peer address) and a new one is
 * opened when every pooled one has reached the peer's stream limit; idle ones close after five
 * minutes; PING keeps them alive. Written on Node's http2 rather than http2-wrapper's agent, whose
 * pool is keyed by origin for ordinary requests, not by workload identity for CONNECT tunnels.
 */
export class HboneClient {
  readonly #o: HboneClientOptions;
  readonly #peers = new WeakMap<Duplex, string>();
  readonly #pools = new TunnelPools<Pooled>(
    (p) => !p.session.closed && !p.session.destroyed && p.streams < streamLimit(p),
    (p) => {
      p.streams += 1;
    },
  );

  readonly #upstream: Upstream;
  readonly #log: Logger;

  constructor(options: HboneClientOptions) {
    this.#o = options;
    this.#log = options.logger ?? silentLogger;
    if (options.upstream) this.#upstream = options.upstream;
    else if (options.socketOps && (options.identities || options.identityFallback))
      this.#upstream = new Upstream({
        socketOps: options.socketOps,
        connectTimeout: DEFAULT_TIMEOUTS.connect,
        handshakeTimeout: DEFAULT_TIMEOUTS.handshake,
        identities: options.identities,
        identityFallback: options.identityFallback ?? 'refuse',
        logger: this.#log,
      });
    else
      throw new TypeError(
        'HboneClient needs an upstream, or socketOps with identities (or identityFallback: "trust-domain", chosen explicitly)',
      );
  }

  /** The identity the peer of a tunnel this client opened presented (for access logs). */
  peerOf(tunnel: Duplex): string | undefined {
    return this.#peers.get(tunnel);
  }

  /** Open pooled connections, for tests and metrics. */
  get connectionCount(): number {
    return this.#pools.count;
  }

  /**
   * Opens a tunnel. Resolves with the stream (a Duplex) once the peer answered 200. A CONNECT on
   * a pooled connection that served before and breaks before any answer (the peer restarted and
   * the connection is dead) is tried once more on a fresh connection: no byte was relayed, and
   * the peer decided nothing.
   */
  async connect(request: TunnelRequest): Promise<Duplex> {
    try {
      return await this.#tunnel(request, false);
    } catch (error) {
      if (!staleConnection.has(error as Error)) throw error;
      this.#log.debug('HBONE pooled connection was dead; tunnel retried on a fresh one', {
        destination: formatAuthority(request.destination),
        reason: (error as Error).message,
      });
      return this.#tunnel(request, true);
    }
  }

  async #tunnel(request: TunnelRequest, fresh: boolean): Promise<Duplex> {
    const peer = request.peer ?? { address: request.destination.address, port: HBONE_PORT };
    const pooled = await this.#session(peer, request.identities, fresh); // returns with a stream slot already reserved
    const served = pooled.answered > 0;
    clearTimeout(pooled.idleTimer);
    const post = request.mode === 'post';
    const headers: Record<string, string> = post
      ? {
          // POST mode: an ordinary request that any HTTP/2 infrastructure forwards; the target rides in x-tun.
          [h2.HTTP2_HEADER_METHOD]: 'POST',
          [h2.HTTP2_HEADER_SCHEME]: 'https',
          [h2.HTTP2_HEADER_PATH]: '/',
          [h2.HTTP2_HEADER_AUTHORITY]: formatAuthority(peer),
          'x-tun': formatAuthority(request.destination),
        }
      : {
          [h2.HTTP2_HEADER_METHOD]: 'CONNECT',
          [h2.HTTP2_HEADER_AUTHORITY]: formatAuthority(request.destination),
        };
    if (request.client) headers.forwarded = forwardedFor(request.client.address, request.client.port);
    if (request.baggage) headers.baggage = baggageHeader(request.baggage);
    if (request.traceparent) headers.traceparent = request.traceparent;
    let stream: ClientHttp2Stream;
    try {
      stream = pooled.session.request(headers, { endStream: false });
    } catch (error) {
      this.#release(pooled);
      throw new HboneConnectError(
        `HBONE connection to ${formatAuthority(peer)} is gone: ${(error as Error).message}`,
      );
    }
    stream.once('close', () => this.#release(pooled));
    try {
      await awaitTunnel(
        stream,
        `HBONE peer ${formatAuthority(peer)}`,
        formatAuthority(request.destination),
        this.#upstream.connectTimeout,
      );
    } catch (error) {
      if (served && lostBeforeAnswer(error)) {
        pooled.session.destroy(); // dead: no other tunnel may pick it
        staleConnection.add(error as Error);
      }
      throw error;
    }
    pooled.answered += 1;
    if (!post) this.#peers.set(stream, pooled.peer);
    return post ? this.#innerTls(stream, request.destination.address, request.identities) : stream;
  }

  /**
   * POST mode: the workloads' own mTLS inside the stream, end to end through any intermediary.
   * The inner server is pinned to the destination (to the request's `identities` when given), as
   * a direct tunnel's would be: an intermediary must not choose who answers.
   */
  async #innerTls(
    stream: ClientHttp2Stream,
    destination: string,
    identities?: readonly string[],
  ): Promise<TLSSocket> {
    const cert = this.#o.certificates.current;
    const inner = tlsConnect({
      socket: stream,
      cert: cert.chain,
      key: cert.key,
      ca: cert.bundle,
      minVersion: 'TLSv1.3',
      checkServerIdentity: () => undefined,
    } as ConnectionOptions);
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        inner.destroy();
        reject(new HboneConnectError(`inner mTLS failed: ${why}`));
      };
      const timer = setTimeout(() => fail('no handshake in time'), this.#upstream.handshakeTimeout);
      inner.once('secureConnect', () => {
        clearTimeout(timer);
        resolve();
      });
      inner.once('error', (e) => fail(e.message));
    });
    const decision = this.#upstream.checkServer(
      destination,
      spiffeIdsFromSan(inner.getPeerCertificate()?.subjectaltname),
      parseSpiffeId(cert.spiffeId) as SpiffeId,
      this.#o.authorization,
      identities,
    );
    if (!decision.allowed) {
      inner.destroy();
      throw new HboneConnectError(`inner peer refused: ${decision.reason}`);
    }
    return inner;
  }

  /**
   * A peer that floods control frames: GOAWAY ENHANCE_YOUR_CALM, then the connection closed (its
   * tunnels fail with it; other peers' connections are not touched). Never pooled again.
   */
  #calm(pooled: Pooled, peer: string): void {
    this.#pools.remove(pooled.key, pooled);
    this.#log.warn('closing an HBONE connection whose peer floods control frames', { peer });
    this.#o.onControlFrameFlood?.(peer);
    const { session } = pooled;
    if (!session.destroyed && !session.closed) session.goaway(h2.NGHTTP2_ENHANCE_YOUR_CALM);
    setTimeout(() => session.destroy(), CALM_GRACE_MS).unref();
  }

  /** Closes every pooled connection (GOAWAY, then close). */
  close(): void {
    this.#pools.clear((p) => p.session.close());
  }

  #release(pooled: Pooled): void {
    pooled.streams -= 1;
    if (pooled.streams === 0) {
      pooled.idleTimer = setTimeout(
        () => pooled.session.close(),
        this.#o.idleTimeoutMs ?? HBONE_SETTINGS.idleTimeoutMs,
      );
      pooled.idleTimer.unref();
    }
  }

  /** A pooled connection with a stream slot reserved for the caller (see {@link TunnelPools}). */
  #session(peer: HboneAuthority, identities?: readonly string[], fresh = false): Promise<Pooled> {
    const key = poolKey(this.#o.certificates.current.spiffeId, formatAuthority(peer), identities);
    return this.#pools.slot(key, () => this.#open(peer, key, identities), fresh);
  }

  async #open(peer: HboneAuthority, key: string, identities?: readonly string[]): Promise<Pooled> {
    const {
      tls,
      raw,
      carried,
      peer: identity,
    } = await this.#upstream.tls({
      peer,
      certificates: this.#o.certificates,
      target: this.#o.target,
      alpn: ['h2'],
      authorization: this.#o.authorization,
      identities,
      recordsPerTurn: HBONE_LIMITS.recordsPerCheck,
      ...(this.#o.onTlsFlood ? { onFlood: this.#o.onTlsFlood } : {}),
    });
    // HTTP/2 must see its peer's FIN, or a dead peer's session lingers in CLOSE-WAIT.
    raw.allowHalfOpen = false;
    tls.allowHalfOpen = false;
    const session = h2connect(`https://${formatAuthority(peer)}`, {
      createConnection: () => tls,
      settings: {
        initialWindowSize: HBONE_SETTINGS.streamWindow,
        maxFrameSize: HBONE_SETTINGS.maxFrameSize,
        enablePush: false,
      },
    });
    session.on('error', (error) =>
      this.#log.debug('HBONE pooled connection error', {
        peer: formatAuthority(peer),
        reason: error.message,
      }),
    );
    await new Promise<void>((resolve, reject) => {
      session.once('connect', () => resolve());
      session.once('close', () =>
        reject(
          new HboneConnectError(`HBONE connection to ${formatAuthority(peer)} closed before it was ready`),
        ),
      );
    });
    session.setLocalWindowSize(HBONE_SETTINGS.connectionWindow);
    const pooled: Pooled = { session, key, streams: 0, answered: 0, peer: identity };
    // What the peer sends besides DATA, counted as TLS is handed its ciphertext.
    if (carried)
      new ControlFrameBudget(session, tls).watch(carried, () => this.#calm(pooled, formatAuthority(peer)));
    keepAlive(session, this.#log);
    session.once('close', () => {
      clearTimeout(pooled.idleTimer);
      this.#pools.remove(key, pooled);
    });
    session.once('goaway', () => this.#pools.remove(key, pooled));
    this.#pools.add(key, pooled);
    return pooled;
  }
}
