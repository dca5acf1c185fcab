import type { Socket } from 'node:net';
import {
  type Accepted,
  type CarrierContext,
  type HandshakeResult,
  type InboundAuthorization,
  type PeerSession,
  type RelayOutcome,
  type TlsFlood,
  unmapAddress,
} from '@switchyard/dataplane/carrier';
import { HBONE_STATUS, parseAuthority, parseForwardedFor } from '@switchyard/hbone';
import { CloseGuard } from '../carrier/close-guard.js';
import { EngineStandIn } from '../carrier/engine-stand-in.js';
import type { DecidedTunnel, Http2Session, IncomingTunnel } from '../h2-session.js';
import type { PeerHandshake } from '../peer-handshake.js';
import type { RelayEngine } from '../relay-engine.js';
import { stopReading } from '../socket-handoff.js';
import type { TlsContext } from '../tls-credentials.js';
import { carryPost } from './post-mode.js';
import { reportDecided } from './report-decided.js';
import { StreamSlot } from './stream-slot.js';
import { tunnelOutcome } from './tunnel-outcome.js';

/** What one served connection knows: the peer, where it came from, whether it is refused. */
interface Served {
  peer: string | undefined;
  source: string;
  arrivedOn: string;
  denied: boolean;
  session?: Http2Session;
}

/** A peer the engine handshook on 15008, held until the data plane has authorized it. */
class NativePeerSession implements PeerSession {
  constructor(
    readonly handshake: PeerHandshake,
    readonly guard: CloseGuard,
  ) {}

  /** Undefined when the peer presented no single SPIFFE ID: the data plane denies it (401 per stream). */
  get peer(): string | undefined {
    return this.handshake.spiffeId || undefined;
  }

  get identityError(): string | undefined {
    return this.handshake.identityError;
  }

  /** Never called: the HBONE listener takes the connection through `accept`. */
  deliver(): Promise<RelayOutcome | undefined> {
    return Promise.resolve(undefined);
  }

  async refuse(): Promise<void> {
    await this.handshake.reject();
  }
}

/**
 * The HBONE server on the engine: TLS (ALPN h2) and HTTP/2 on engine threads, each CONNECT (or
 * POST-mode) stream answered through the data plane's `serveStream` (authorization, authority,
 * dial) and, once accepted, carried by the engine to the app socket — or, where the data plane's
 * decisions compile into the engine's admission table, decided and dialled on the engine thread
 * (JavaScript reports those streams afterwards, as `serveStream` would).
 */
export class NativeHboneServer {
  readonly #c: CarrierContext;
  readonly #engine: RelayEngine;
  readonly #tls: () => TlsContext;
  readonly #open = new Map<PeerHandshake, Served>();
  readonly #streams: StreamSlot;
  #closing = false;

  constructor(context: CarrierContext, engine: RelayEngine, tls: () => TlsContext) {
    this.#c = context;
    this.#engine = engine;
    this.#tls = tls;
    this.#streams = new StreamSlot(engine);
  }

  /** Open HTTP/2 connections. */
  get sessionCount(): number {
    return this.#open.size;
  }

  /** The engine's TLS handshake; the data plane gates it, then authorizes the peer. */
  async handshake(c: Accepted): Promise<HandshakeResult> {
    stopReading(c.socket); // before any await: the engine reads it, never Node
    const guard = new CloseGuard();
    guard.watch(c.socket);
    let peer: Awaited<ReturnType<RelayEngine['tls']>>;
    try {
      peer = await this.#engine.tls({
        role: 'server',
        socket: c.socket,
        credentials: this.#tls(),
        keepSocket: true,
        signal: guard.signal,
      });
    } catch (error) {
      c.socket.destroy();
      return { ok: false, failure: 'handshake', reason: (error as Error).message };
    }
    if (peer.ok) return { ok: true, session: new NativePeerSession(peer, guard) };
    guard.release();
    c.socket.resetAndDestroy();
    if (peer.reason === 'identity') return { ok: false, failure: 'identity', reason: peer.detail };
    const failure = peer.reason === 'handshake-timeout' ? 'timeout' : 'handshake';
    return { ok: false, failure, reason: `${peer.reason} ${peer.detail}` };
  }

  /** Serves HTTP/2 on an authorized (or, answered 401 per stream, a refused) connection. */
  accept(c: Accepted, session?: PeerSession, authorization?: InboundAuthorization): void {
    if (!(session instanceof NativePeerSession)) return void c.socket.destroy();
    const { handshake: peer, guard } = session;
    const standIn = new EngineStandIn(peer.abort);
    if (this.#closing || !this.#c.replace(c, standIn)) {
      guard.release();
      c.socket.destroy();
      void peer.reject();
      return;
    }
    const served: Served = {
      peer: session.peer,
      source: c.client.address,
      arrivedOn: unmapAddress(c.socket.localAddress ?? c.originalDestination.address),
      denied: authorization?.allowed !== true,
    };
    guard.release();
    c.socket.destroy(); // Node's copy only: the engine holds the connection
    this.#open.set(peer, served);
    // an authorized peer's streams are decided on the engine where the table can (compiled anew
    // per connection: the slot is replaced when what it compiles to changed)
    const slot = served.denied || !served.peer ? undefined : this.#streams.hold(this.#c.compileStreams?.());
    const h2 = peer.http2({
      role: 'server',
      denied: served.denied,
      onStream: (t) => this.#stream(served, t),
      ...(slot !== undefined && served.peer
        ? { streams: { slot, peer: served.peer, onDecided: (t: DecidedTunnel) => this.#decided(served, t) } }
        : {}),
    });
    served.session = h2;
    void h2.ended.then((result) => {
      this.#open.delete(peer);
      if (result.reason === 'enhance-your-calm') this.#calmed(served, result.detail);
      if (result.reason === 'tls-flood') this.#flooded(served, result.detail);
      if (result.reason === 'eof') standIn.destroy();
      else standIn.resetAndDestroy();
    });
  }

  /** The engine closed an abusive connection (ENHANCE_YOUR_CALM): counted by the word its detail starts with. */
  #calmed(served: Served, detail: string): void {
    const reason = detail.split(':')[0] ?? 'enhance-your-calm';
    this.#c.metrics.streamResets.inc({ workload: this.#c.labels.workload, reason, direction: 'inbound' });
    const who = served.peer ? { peer: served.peer } : {};
    const penaltyMs = this.#c.penalize(served.source);
    this.#c.logger.warn(`closed an HBONE connection with ENHANCE_YOUR_CALM (${detail})`, {
      source: served.source,
      ...who,
      penaltyMs,
    });
  }

  /** The engine reset a connection that flooded TLS records: counted by the limit its detail names first; its source penalized. */
  #flooded(served: Served, detail: string): void {
    const reason = detail.split(':')[0] as TlsFlood;
    this.#c.metrics.tlsFloods.inc({ ...this.#c.labels, direction: 'inbound', reason });
    this.#c.penalize(served.source);
  }

  /** GOAWAY on every connection: open tunnels finish, no new ones start. */
  drain(): void {
    for (const served of this.#open.values()) served.session?.goaway();
  }

  /** Resets every connection (its tunnels with it) and waits for the engine to report them. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#streams.release(); // streams still opening are asked of JavaScript, which resets them
    const ended = [...this.#open].map(([peer, served]) => {
      peer.abort();
      return served.session?.ended;
    });
    await Promise.all(ended);
  }

  /** A stream the engine decided from the table: reported as the data plane reports its own. */
  #decided(served: Served, t: DecidedTunnel): void {
    if (this.#closing && t.verdict === 'accepted') t.reset();
    reportDecided(this.#c, served, t);
  }

  #refuse(t: IncomingTunnel, served: Served, code: string, reason: string): void {
    this.#c.report({
      direction: 'inbound',
      outcome: 'refused',
      code,
      reason,
      source: served.source,
      peer: served.peer,
    });
    t.refuse(HBONE_STATUS.badRequest);
  }

  #stream(served: Served, t: IncomingTunnel): void {
    if (this.#closing) {
      t.reset();
      return;
    }
    // POST mode: the target rides in x-tun, the workloads' own mTLS inside the stream (post-mode.ts).
    const post = t.method === 'POST';
    if (!post && t.method !== 'CONNECT') {
      this.#refuse(t, served, 'method', `method ${t.method} is not CONNECT`);
      return;
    }
    const authority = t.overflow ? null : parseAuthority(post ? t.xTun : t.authority);
    const forwarded = t.forwarded ? parseForwardedFor(t.forwarded) : undefined;
    void this.#c.serveStream({
      peer: served.peer,
      source: served.source,
      arrivedOn: served.arrivedOn,
      authority: authority ?? undefined,
      ...(forwarded ? { forwardedFor: forwarded.address } : {}),
      signal: t.signal,
      refuse: ({ outcome, status }) => {
        t.refuse(status ?? (outcome === 'denied' ? HBONE_STATUS.denied : HBONE_STATUS.unreachable));
        // a refused peer is told to go away once the refused stream has ended (GOAWAY before its
        // answer and reset would hide the 401 from strict clients)
        if (outcome === 'denied' && served.denied)
          t.signal.addEventListener('abort', () => served.session?.goaway(), { once: true });
      },
      open: (app: Socket) => {
        app.destroy(); // not used: `carry` takes the stream
        return Promise.resolve(undefined);
      },
      carry: async (app) => {
        if (post)
          return carryPost(this.#c, this.#engine, this.#tls(), {
            tunnel: t,
            app,
            peer: served.peer,
            source: served.source,
          });
        const result = await t.accept(app);
        return result ? tunnelOutcome(result) : undefined;
      },
    });
  }
}
