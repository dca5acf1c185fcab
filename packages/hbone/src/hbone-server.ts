import {
  createServer as createPlainServer,
  constants as h2,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  createSecureContext,
  type SecureContext,
  type TLSSocket,
  TLSSocket as TlsSocketClass,
} from 'node:tls';
import {
  type Accepted,
  abort,
  type CarrierContext,
  type HandshakeResult,
  type InboundAuthorization,
  type PeerSession,
  reportTlsFloods,
  singleSpiffeId,
  TlsTerminator,
  TruncationGuard,
  tlsSession,
  unmapAddress,
} from '@switchyard/dataplane/carrier';
import { spiffeIdsFromSan, type WorkloadCertificate } from '@switchyard/mesh';
import { parseAuthority, parseForwardedFor } from './authority.js';
import { ControlFrameBudget } from './control-frame-budget.js';
import { keepAlive } from './keepalive.js';
import { HBONE_LIMITS, HBONE_SETTINGS, HBONE_STATUS } from './settings.js';

const contextOptions = (cert: WorkloadCertificate) => ({ cert: cert.chain, key: cert.key, ca: cert.bundle });

/** How long a closing connection may take to flush its resets and GOAWAY before it is destroyed. */
const CLOSE_GRACE_MS = 200;

const serverContext = (cert: WorkloadCertificate) =>
  createSecureContext({ ...contextOptions(cert), minVersion: 'TLSv1.3' });

const h2Settings = {
  initialWindowSize: HBONE_SETTINGS.streamWindow,
  maxFrameSize: HBONE_SETTINGS.maxFrameSize,
  maxConcurrentStreams: HBONE_SETTINGS.maxConcurrentStreams,
};

/** Why a peer that negotiated no HTTP/2 is refused after its handshake. */
const NO_H2 = 'the peer did not negotiate HTTP/2 (ALPN h2): HBONE peers must offer h2';

/** What the server knows of one HTTP/2 connection. */
interface Session {
  session: ServerHttp2Session;
  /** The TCP peer: the only source address the app ever sees. */
  peerAddress: string;
  /** The local address the connection arrived on. */
  localAddress: string;
  /** The authenticated peer identity (undefined: no single SPIFFE ID). */
  peer: string | undefined;
  /** Streams the peer reset before we answered them (rapid reset), in the window since `resetWindowStart`. */
  earlyResets: number;
  resetWindowStart: number;
  /** The policy refuses this peer: every stream gets 401, and the connection closes soon. */
  denied: boolean;
  /** Its non-DATA bytes, counted as TLS is handed ciphertext (undefined: a reverse tunnel's). */
  budget: ControlFrameBudget | undefined;
  streams: Set<ServerHttp2Stream>;
}

/** The stream under TLS of a connection accepted on 15008, and the addresses it joins. */
interface Carried {
  stream: Duplex;
  peerAddress: string;
  localAddress: string;
}

/**
 * The HBONE server (ztunnel's inbound on 15008): mTLS with ALPN h2, every tunnel an HTTP/2
 * CONNECT stream, for one workload of a data plane. A stream is answered 200 only after the peer
 * is authorized, the authority is this workload's and not a proxy port, and the app answered the
 * connect; 400 for a bad request or an authority not served here, 401 for a denied peer (no byte
 * reaches the app), 503 when the app cannot be reached or the port is the proxy's own.
 */
export class HboneServer {
  readonly #c: CarrierContext;
  readonly #sessions = new Map<ServerHttp2Session, Session>();
  /** The stream under each accepted connection's TLS, until HTTP/2 serves it. */
  readonly #carried = new WeakMap<TLSSocket, Carried>();
  #closing = false;
  #secureContext: SecureContext;
  readonly #terminator: TlsTerminator;
  readonly #onRotated = (cert: WorkloadCertificate) => {
    this.#secureContext = serverContext(cert);
    this.#terminator.rotate(cert);
  };

  constructor(context: CarrierContext) {
    this.#c = context;
    const identity = context.workload.identity;
    this.#secureContext = serverContext(identity.current);
    this.#terminator = new TlsTerminator({
      certificate: identity.current,
      handshakeTimeout: context.timeouts.handshake,
      alpn: ['h2'],
      onFlood: reportTlsFloods(context, 'inbound'),
    });
    identity.on('rotated', this.#onRotated);
  }

  /** Open HTTP/2 connections. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /**
   * The TLS handshake of a connection accepted on the HBONE port (ALPN h2). The data plane gates
   * it (pending handshakes capped apart from established connections, per source too), then
   * authorizes the peer and hands the connection to {@link HboneServer.accept}.
   */
  handshake(c: Accepted): Promise<HandshakeResult> {
    // HTTP/2 needs to see its peer's FIN: half-open stays for the relayed byte streams only.
    c.socket.allowHalfOpen = false;
    // The ciphertext reaches TLS through JavaScript, a few records at a time, so the control-frame
    // budget is checked as it arrives (see ControlFrameBudget); a FIN stays a FIN (never watched).
    const carried = new TruncationGuard(c.socket, HBONE_LIMITS.recordsPerCheck);
    return new Promise<HandshakeResult>((resolve) => {
      this.#terminator.accept(carried, {
        failed: (failure) => resolve({ ok: false, failure, reason: failure }),
        secure: (tls) => {
          tls.on('error', (error) =>
            this.#c.logger.debug('HBONE connection error', { reason: error.message }),
          );
          // A peer that did not ask for h2: Node's HTTP/2 would only half-close it and hold it
          // (unread) for 10 s, so each reconnection of a client that floods it costs memory.
          if (tls.alpnProtocol !== 'h2') {
            tls.destroy();
            return resolve({ ok: false, failure: 'protocol', reason: NO_H2 });
          }
          // abort() writes its undecryptable record on the TCP socket under TLS (`_parent`).
          (tls as TLSSocket & { _parent?: unknown })._parent = c.socket;
          this.#carry(tls, carried, c.socket);
          resolve({ ok: true, session: tlsSession(c.socket, tls) });
        },
      });
    });
  }

  /**
   * Serves HTTP/2 on a connection the data plane handshook and authorized. A peer the policy
   * refuses is still answered 401 per stream (ztunnel's wire), but its connection was never
   * counted as established and lives only briefly: holding connections open cannot lock others out.
   */
  accept(_c: Accepted, session?: PeerSession, authorization?: InboundAuthorization): void {
    if (!session?.outer) return;
    this.#serve(session.outer as TLSSocket, true, authorization?.allowed !== true);
  }

  /**
   * Serves HBONE over a TLS connection this side dialled (a reverse tunnel, H2R): the peer that
   * accepted it opens CONNECT streams, handled exactly like those on 15008, the peer being the
   * identity it presented to our dial. `carried` is the stream that hands its TLS the ciphertext
   * of `raw` (the control-frame budget is checked on it), when the dial made one.
   */
  serveReverse(tls: TLSSocket, carried?: { stream: Duplex; raw: Socket }): void {
    if (carried) this.#carry(tls, carried.stream, carried.raw);
    this.#serve(tls, false, false);
  }

  /** Remembers the stream under `tls` and the addresses of `raw`, for the session HTTP/2 starts on it. */
  #carry(tls: TLSSocket, stream: Duplex, raw: Socket): void {
    this.#carried.set(tls, {
      stream,
      peerAddress: unmapAddress(raw.remoteAddress ?? ''),
      localAddress: unmapAddress(raw.localAddress ?? ''),
    });
  }

  /**
   * HTTP/2 over an authenticated TLS connection. One small server object per connection: its
   * handlers know the TLS socket (and so the peer), which the session's socket wrapper hides.
   */
  #serve(tls: TLSSocket, bigWindow: boolean, denied: boolean): void {
    const server = createPlainServer({
      settings: h2Settings,
      maxSessionRejectedStreams: HBONE_LIMITS.maxRejectedStreams,
      maxSessionInvalidFrames: HBONE_LIMITS.maxInvalidFrames,
    });
    // The server has this one session: a stream whose HEADERS and RST_STREAM came in one read is
    // emitted after its reset, its own `session` already gone, so the session is taken from here.
    let session: ServerHttp2Session | undefined;
    server.on('session', (s: ServerHttp2Session) => {
      session = s;
      this.#onSession(s, tls, bigWindow, denied);
    });
    server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) =>
      this.#onStream(stream, headers, session),
    );
    server.emit('connection', tls);
  }

  /** GOAWAY on every connection: open streams may finish, no new ones start. */
  drain(): void {
    for (const s of this.#sessions.keys()) if (!s.closed) s.close();
  }

  /** Resets every stream still open (RST_STREAM CANCEL) and closes every connection. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#c.workload.identity.off('rotated', this.#onRotated);
    const closed = [...this.#sessions.values()].map(({ session, streams }) => {
      // RST_STREAM CANCEL alone (see abort()): a bare destroy() would reset with the GOAWAY's
      // NO_ERROR (a drain sent one), and close(code) sends END_STREAM first: a client reads either
      // as a clean end.
      for (const stream of streams) abort(stream);
      // GOAWAY after the RST_STREAMs, so the peer reads every stream's reset before the end.
      return new Promise<void>((resolve) => {
        if (session.destroyed) return resolve();
        const force = setTimeout(() => session.destroy(), CLOSE_GRACE_MS);
        session.close(() => {
          clearTimeout(force);
          resolve();
        });
        session.once('close', () => resolve());
      });
    });
    await Promise.all(closed);
  }

  #onSession(session: ServerHttp2Session, tls: TLSSocket, bigWindow: boolean, denied: boolean): void {
    const presented = spiffeIdsFromSan(tls.getPeerCertificate?.()?.subjectaltname);
    const carried = this.#carried.get(tls);
    this.#carried.delete(tls);
    const state: Session = {
      session,
      peerAddress: carried?.peerAddress ?? unmapAddress(tls.remoteAddress ?? ''),
      localAddress: carried?.localAddress ?? unmapAddress(tls.localAddress ?? ''),
      peer: singleSpiffeId(presented).id,
      earlyResets: 0,
      resetWindowStart: Date.now(),
      denied,
      budget: carried ? new ControlFrameBudget(session, tls) : undefined,
      streams: new Set(),
    };
    this.#sessions.set(session, state);
    session.on('error', (error) => this.#c.logger.debug('HBONE session error', { reason: error.message }));
    session.once('close', () => this.#sessions.delete(session));
    if (bigWindow) session.once('connect', () => session.setLocalWindowSize(HBONE_SETTINGS.connectionWindow));
    keepAlive(session, this.#c.logger);
    if (carried)
      state.budget?.watch(carried.stream, () =>
        this.#calm(state, 'control-frame-flood', 'closing an HBONE connection that floods control frames'),
      );
    if (denied) setTimeout(() => session.destroy(), this.#c.timeouts.handshake).unref();
  }

  #onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, session?: ServerHttp2Session): void {
    if (this.#closing) return void stream.close(h2.NGHTTP2_REFUSED_STREAM);
    const state = session ? this.#sessions.get(session) : undefined;
    if (!state) return void stream.close(h2.NGHTTP2_REFUSED_STREAM);
    stream.on('error', (error) => this.#c.logger.debug('HBONE stream error', { reason: error.message }));
    state.streams.add(stream);
    stream.once('close', () => {
      state.streams.delete(stream);
      if (!stream.headersSent && !this.#closing) this.#earlyReset(state, stream);
    });
    void this.#tunnel(state, stream, headers);
  }

  /**
   * Closes an abusive connection: GOAWAY ENHANCE_YOUR_CALM, then the socket; its source is
   * refused at accept for a while, longer for each strike, so reconnecting earns it nothing.
   */
  #calm(state: Session, reason: string, msg: string): void {
    this.#c.metrics.streamResets.inc({ workload: this.#c.labels.workload, reason, direction: 'inbound' });
    const penaltyMs = this.#c.penalize(state.peerAddress);
    this.#c.logger.warn(msg, { source: state.peerAddress, peer: state.peer, penaltyMs });
    if (!state.session.destroyed && !state.session.closed) state.session.goaway(h2.NGHTTP2_ENHANCE_YOUR_CALM);
    setTimeout(() => state.session.destroy(), 100).unref();
  }

  /** A stream the peer reset before we answered it: counted; too many close the connection (CVE-2023-44487). */
  #earlyReset(state: Session, stream: ServerHttp2Stream): void {
    if (stream.rstCode === h2.NGHTTP2_NO_ERROR) return;
    const now = Date.now();
    // Counted per window: a long-lived connection's occasional cancels never add up to a ban.
    if (now - state.resetWindowStart > HBONE_LIMITS.earlyResetWindowMs) {
      state.resetWindowStart = now;
      state.earlyResets = 0;
    }
    state.earlyResets += 1;
    this.#c.metrics.streamResets.inc({
      workload: this.#c.labels.workload,
      reason: 'reset-before-answer',
      direction: 'inbound',
    });
    if (state.earlyResets === HBONE_LIMITS.maxEarlyResets)
      this.#calm(
        state,
        'rapid-reset-goaway',
        'closing an HBONE connection that resets streams before they are answered',
      );
  }

  #answer(
    stream: ServerHttp2Stream,
    status: number,
    outcome: 'denied' | 'refused' | 'failed',
    code: string,
    reason: string,
    info: Record<string, string | undefined>,
  ): void {
    this.#c.report({ direction: 'inbound', outcome, code, reason, ...clean(info) });
    if (!stream.destroyed && !stream.headersSent) stream.respond({ ':status': status }, { endStream: true });
  }

  async #tunnel(state: Session, stream: ServerHttp2Stream, headers: IncomingHttpHeaders): Promise<void> {
    const method = headers[h2.HTTP2_HEADER_METHOD];
    // POST mode (from the hbone project): for infrastructure that forwards only ordinary requests,
    // the tunnel is a POST naming its target in `x-tun`, with mTLS end to end inside the stream.
    const post = method === 'POST';
    if (!post && method !== 'CONNECT')
      return this.#answer(
        stream,
        HBONE_STATUS.badRequest,
        'refused',
        'method',
        `method ${String(method)} is not CONNECT`,
        {
          source: state.peerAddress,
          peer: state.peer,
        },
      );
    const authority = parseAuthority(
      (post ? headers['x-tun'] : headers[h2.HTTP2_HEADER_AUTHORITY]) as string | undefined,
    );
    const forwarded = parseForwardedFor(headers.forwarded);
    // A stream reset while its dial is in flight cancels the dial.
    const cancel = new AbortController();
    const onClose = () => cancel.abort(new Error('the stream was reset'));
    stream.once('close', onClose);
    // A stream opened and reset in the same read (rapid reset) is closed by the next turn of the
    // event loop: it never costs the app a dial.
    await new Promise((resolve) => setImmediate(resolve));
    if (cancel.signal.aborted || stream.destroyed) return;
    // The data plane authorizes the peer first (in both modes), then the authority, then dials.
    await this.#c.serveStream({
      peer: state.peer,
      source: state.peerAddress,
      arrivedOn: state.localAddress,
      authority: authority ?? undefined,
      ...(forwarded ? { forwardedFor: forwarded.address } : {}),
      signal: cancel.signal,
      refuse: ({ outcome, status }) => {
        stream.off('close', onClose);
        // A refused peer's connection is told to go away once its answer has gone out (GOAWAY
        // before the HEADERS would hide the 401 from strict clients).
        if (outcome === 'denied' && state.denied)
          stream.once('close', () => state.session.closed || state.session.close());
        const answer = status ?? (outcome === 'denied' ? HBONE_STATUS.denied : HBONE_STATUS.unreachable);
        if (!stream.destroyed && !stream.headersSent)
          stream.respond({ ':status': answer }, { endStream: true });
      },
      open: async () => {
        stream.off('close', onClose);
        if (stream.destroyed || stream.closed) return undefined;
        stream.respond({ ':status': HBONE_STATUS.ok });
        return post ? this.#innerTls(stream, state) : stream;
      },
    });
  }

  /** POST mode: the workloads' own mTLS inside the stream; its identity must match the outer one. */
  async #innerTls(stream: ServerHttp2Stream, state: Session): Promise<Duplex> {
    const inner = new TlsSocketClass(stream as unknown as Socket, {
      isServer: true,
      secureContext: this.#secureContext,
      requestCert: true,
      rejectUnauthorized: true,
    });
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), this.#c.timeouts.handshake);
      const settle = (ok: boolean) => {
        clearTimeout(timer);
        resolve(ok);
      };
      inner.once('secure', () => settle(true));
      inner.once('error', () => settle(false));
    });
    const innerPeer = ok
      ? singleSpiffeId(spiffeIdsFromSan(inner.getPeerCertificate()?.subjectaltname)).id
      : undefined;
    if (!ok || innerPeer !== state.peer) {
      this.#c.report({
        direction: 'inbound',
        outcome: 'denied',
        code: 'inner-identity',
        source: state.peerAddress,
        reason: ok ? `inner identity ${innerPeer} is not the outer ${state.peer}` : 'inner TLS failed',
      });
      inner.destroy();
      stream.close(h2.NGHTTP2_CANCEL);
    } else {
      inner.on('error', (error) => this.#c.logger.debug('inner TLS error', { reason: error.message }));
    }
    return inner;
  }
}

const clean = (info: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(info).filter(([, v]) => v !== undefined)) as Record<string, string>;
