import type { Socket } from 'node:net';
import {
  type Accepted,
  type Carrier,
  type CarrierContext,
  type CarrierFactory,
  type Direction,
  type Endpoint,
  formatEndpoint,
  type HandshakeOptions,
  type HandshakeResult,
  NOT_TLS,
  type RelayOutcome,
  type ServerIdentityDecision,
  type TlsFlood,
} from '@switchyard/dataplane/carrier';
import { parseSpiffeId, type SpiffeId } from '@switchyard/mesh';
import type { FailedHandshake, PeerHandshake } from '../peer-handshake.js';
import type { AdmissionQuestion, RelayEngine } from '../relay-engine.js';
import type { RelayResult } from '../relay-result.js';
import { resumeReading, stopReading } from '../socket-handoff.js';
import { AdmissionSlot } from './admission-slot.js';
import { CloseGuard } from './close-guard.js';
import { EngineCarrierParts } from './engine-carrier-parts.js';
import { EngineStandIn } from './engine-stand-in.js';
import { engineCarrierFactory } from './shared-engine.js';

/** Options of {@link mtlsNativeCarrier}. */
export interface MtlsNativeCarrierOptions {
  /** The engine to use. Default: one per factory, started on first use, closed with the last workload. */
  engine?: RelayEngine;
  /** Key-exchange groups (OpenSSL syntax). Default: OpenSSL's, the same as Node's. */
  groups?: string;
}

/**
 * The mtls carrier on the native engine: the same wire protocol, identities and decisions as
 * the JavaScript `mtls` carrier, but the handshake and the bytes run on engine threads. Once a
 * connection relays, the engine holds its only descriptors: the data plane counts and drains a
 * stand-in (no socket) in its place, and resetting the stand-in resets the connection.
 * `handshake()` resolves with the peer's session; `outbound()` once the connection is relaying or refused.
 *
 * @example
 * ```ts
 * await plane.addWorkload({ id: 'web/api', identity, carrier: mtlsNativeCarrier(), policy });
 * ```
 */
export function mtlsNativeCarrier(options: MtlsNativeCarrierOptions = {}): CarrierFactory {
  return engineCarrierFactory(
    'mtls-native',
    options.engine,
    (context, engine, release) => new MtlsNativeCarrier(context, engine, options, release),
  );
}

class MtlsNativeCarrier implements Carrier {
  readonly #c: CarrierContext;
  readonly #parts: EngineCarrierParts;
  /** What resets each open connection: its guard while handshaking, its stand-in once relaying. */
  readonly #open = new Set<CloseGuard | EngineStandIn>();
  /** The engine's table slots: the server check of outbound dials, the inbound authorization. */
  readonly #admission: { outbound: AdmissionSlot; inbound: AdmissionSlot };

  constructor(
    context: CarrierContext,
    engine: RelayEngine,
    o: MtlsNativeCarrierOptions,
    release: () => void,
  ) {
    this.#c = context;
    this.#parts = new EngineCarrierParts(context, engine, release, o.groups ? { groups: o.groups } : {});
    this.#admission = { outbound: new AdmissionSlot(engine), inbound: new AdmissionSlot(engine) };
  }

  /** False while an engine thread is stalled: the data plane is not ready then. */
  get healthy(): boolean {
    return this.#parts.healthy;
  }

  async outbound(c: Accepted, destination: Endpoint): Promise<void> {
    stopReading(c.socket); // before any await: the engine will read it, never Node
    const { workload, upstream } = this.#c;
    const peerAt = workload.policy.outbound?.route?.(destination) ?? destination;
    const info = { source: c.client.address, destination: formatEndpoint(destination) };
    let raw: Socket;
    try {
      raw = await upstream.dial({ destination: peerAt, target: workload.target });
    } catch (error) {
      this.#c.outboundFailed({ ...info, kind: 'connect', reason: (error as Error).message });
      return void c.socket.resetAndDestroy(); // as after a failed handshake: never a clean end
    }
    const guard = this.#guard(c.socket);
    // The server is decided on the engine thread where the table can: no round trip to here.
    const admission = this.#question(peerAt.address, c.socket);
    // The upstream leg goes to the engine whole: Node's copy of it closes at hand-off.
    const peer = await this.#handshake('client', raw, guard, false, false, admission);
    if (!peer.ok) {
      const reason = `TLS to ${formatEndpoint(peerAt)} failed: ${peer.reason} ${peer.detail}`;
      this.#c.outboundFailed({ ...info, kind: 'tls', reason });
      return this.#end(guard, [c.socket], false);
    }
    // JavaScript's decision stays the truth: the engine's is held against it afterwards.
    const decision = this.#checkServer(peerAt.address, peer.spiffeId);
    const disagreed = peer.admitted !== undefined && decision.allowed !== (peer.admitted === 'accepted');
    if (disagreed)
      this.#c.logger.error('the admission table disagreed with the server check', {
        peer: peer.spiffeId,
        ...info,
      });
    if (!decision.allowed || peer.admitted === 'refused') {
      await peer.reject();
      this.#c.outboundFailed({
        ...info,
        kind: 'identity',
        code: decision.code ?? 'policy',
        reason: decision.allowed
          ? `refused by the engine's admission table (${peer.refusedCode})`
          : decision.reason,
        peer: peer.spiffeId,
      });
      return this.#end(guard, [c.socket], false);
    }
    const report = { ...info, peer: peer.spiffeId };
    // Not awaited: while the engine relays, only the stand-in and the report's fields stay in memory.
    void this.#relay('outbound', peer, c.socket, c, guard).then((outcome) => {
      if (outcome) this.#c.relayed('outbound', outcome, report);
    });
  }

  /** What the engine needs to decide the server at `address` itself, or undefined: JavaScript decides. */
  #question(address: string, plain: Socket): AdmissionQuestion | undefined {
    const self = parseSpiffeId(this.#c.workload.identity.current.spiffeId) as SpiffeId;
    const authorization = this.#c.workload.policy.outbound?.authorization;
    return this.#admission.outbound.server(
      this.#c.upstream.compileServer(address, self, authorization),
      plain,
    );
  }

  /** The server check the JavaScript carrier's dials make: the data plane's resolver and fallback. */
  #checkServer(address: string, presented: string): ServerIdentityDecision {
    const self = parseSpiffeId(this.#c.workload.identity.current.spiffeId) as SpiffeId;
    const authorization = this.#c.workload.policy.outbound?.authorization;
    return this.#c.upstream.checkServer(address, [presented], self, authorization);
  }

  /**
   * The engine's server handshake on a captured inbound connection; the data plane authorizes
   * the peer and then delivers or refuses through the session. With `plainAccepted` the engine
   * peeks at the first byte: plain TCP goes back to Node unread (`NOT_TLS`).
   */
  async handshake(c: Accepted, options?: HandshakeOptions): Promise<HandshakeResult> {
    stopReading(c.socket); // before any await: the engine will read it, never Node
    const guard = this.#guard(c.socket);
    // Node's socket keeps the connection's place (pending) in the data plane while it handshakes.
    const sniff = options?.plainAccepted === true;
    // A peer the workload's authorization refuses is refused on the engine thread; the data plane
    // still authorizes (and reports) every peer, refused ones included.
    const admission = this.#admission.inbound.peer(this.#c.compileInbound?.());
    const peer = await this.#handshake('server', c.socket, guard, true, sniff, admission);
    if (!peer.ok && peer.reason === 'not-tls' && sniff) {
      this.#open.delete(guard);
      guard.release();
      resumeReading(c.socket);
      return { ok: false, failure: NOT_TLS, reason: peer.detail };
    }
    if (!peer.ok) {
      this.#end(guard, [c.socket], false);
      if (peer.reason === 'identity') return { ok: false, failure: 'identity', reason: peer.detail };
      const failure = peer.reason === 'handshake-timeout' ? 'timeout' : 'handshake';
      return { ok: false, failure, reason: `${peer.reason} ${peer.detail}` };
    }
    const refuse = async () => {
      await peer.reject();
      this.#end(guard, [c.socket], false);
    };
    return {
      ok: true,
      session: {
        peer: peer.spiffeId,
        deliver: (app) => this.#relay('inbound', peer, app, c, guard),
        refuse,
      },
    };
  }

  /**
   * Hands the plain side to the engine and the connection's place in the data plane to a stand-in
   * (the accepted socket and `plain` close: the engine holds its own copies). Resolves with how
   * the connection ended (undefined when it had closed before the hand-off), and nothing but the
   * stand-in and the callbacks on that promise stay in memory meanwhile.
   */
  #relay(
    direction: Direction,
    peer: PeerHandshake,
    plain: Socket,
    c: Accepted,
    guard: CloseGuard,
  ): Promise<RelayOutcome | undefined> {
    const held = c.socket;
    if (peer.admitted === 'refused') {
      // the data plane allowed what the engine's table refused: the table is wrong, nothing is carried
      this.#c.logger.error('the admission table refused a peer the data plane allows', {
        peer: peer.spiffeId,
      });
      this.#end(guard, [held, plain], false);
      return peer.reject().then(() => undefined);
    }
    // Only the source outlives the hand-off: `c` (its closed Node socket) must not stay reachable
    // from the promise below for the connection's life.
    const source = c.client.address;
    // From here the stand-in resets the connection: the guard (an AbortController) can go.
    const standIn = new EngineStandIn(peer.abort);
    if (!this.#c.replace(c, standIn)) {
      this.#end(guard, [held, plain], false);
      return peer.reject().then(() => undefined);
    }
    guard.release();
    let ended: Promise<RelayResult>;
    try {
      ended = peer.accept(plain);
    } catch (error) {
      const reason = (error as Error).message;
      this.#end(guard, [standIn, held, plain], false);
      return peer.reject().then(() => ({ up: 0, down: 0, code: 'handoff', reason }));
    }
    // Node's copy only: the engine holds the connection (an admitted one took `held` with the handshake)
    if (held !== plain || peer.admitted) held.destroy();
    this.#open.delete(guard);
    this.#open.add(standIn);
    return ended.then((result) => this.#finished(result, direction, standIn, source));
  }

  /**
   * The engine's end of a relayed connection, as the data plane reports it; lets go of its
   * stand-in. A TLS flood is counted, and an inbound peer's `source` penalized for it.
   */
  #finished(result: RelayResult, direction: Direction, standIn: EngineStandIn, source: string): RelayOutcome {
    const clean = result.reason === 'eof';
    // the engine's `up` runs from the TLS peer to the plain socket
    const [up, down] = direction === 'outbound' ? [result.down, result.up] : [result.up, result.down];
    this.#open.delete(standIn);
    this.#end(undefined, [standIn], clean);
    if (result.reason === 'tls-flood') {
      const reason = result.detail.split(':')[0] as TlsFlood; // the engine's detail names the limit first
      this.#c.metrics.tlsFloods.inc({ ...this.#c.labels, direction, reason });
      if (direction === 'inbound') this.#c.penalize(source);
    }
    return { up, down, ...(clean ? {} : { code: result.reason, reason: result.detail }) };
  }

  /**
   * The engine's handshake. With `keep`, Node's socket stays open as the connection's stand-in;
   * without, it closes at hand-off. A hand-off the engine refused (out of descriptors) is a failure too.
   */
  async #handshake(
    role: 'client' | 'server',
    socket: Socket,
    guard: CloseGuard,
    keep: boolean,
    sniff = false,
    admission?: AdmissionQuestion,
  ): Promise<PeerHandshake | FailedHandshake> {
    try {
      return await this.#parts.engine.tls({
        role,
        socket,
        credentials: this.#parts.tls,
        keepSocket: keep,
        sniff,
        signal: guard.signal,
        ...(admission ? { admission } : {}),
      });
    } catch (error) {
      if (!keep) socket.destroy();
      return { ok: false, reason: 'reset', detail: (error as Error).message };
    }
  }

  /** A guard that resets the engine's connection when `socket` closes first, held until the end. */
  #guard(socket: Socket): CloseGuard {
    const guard = new CloseGuard();
    this.#open.add(guard);
    guard.watch(socket);
    return guard;
  }

  #end(guard: CloseGuard | undefined, sockets: (Socket | EngineStandIn)[], clean: boolean): void {
    if (guard) this.#open.delete(guard);
    for (const s of sockets) {
      if (s.destroyed) continue;
      if (clean) s.destroy();
      else s.resetAndDestroy();
    }
  }

  drain(): void {
    // Plain TLS has no GOAWAY: the listeners are closed and open connections finish.
  }

  async close(): Promise<void> {
    this.#parts.stop();
    for (const open of this.#open) {
      // The engine reports each end; the data plane still sees what it held and counts the resets.
      if (open instanceof CloseGuard) open.abort();
      else open.reset();
    }
    this.#open.clear();
    this.#admission.outbound.release();
    this.#admission.inbound.release();
    this.#parts.release();
  }
}
