import type { Socket } from 'node:net';
import { HboneTunnelError } from '@switchyard/core';
import { type CarrierContext, type Endpoint, formatEndpoint } from '@switchyard/dataplane/carrier';
import { parseSpiffeId, type SpiffeId } from '@switchyard/mesh';
import type { Http2Session, OpenedTunnel } from '../h2-session.js';
import type { RelayEngine } from '../relay-engine.js';
import type { TlsContext } from '../tls-credentials.js';

/** Streams per pooled connection (HBONE's, ztunnel's). */
const STREAMS_PER_CONNECTION = 100;

/** A pooled connection: the engine's HTTP/2 session, the identity it presented, its reserved slots. */
interface Pooled {
  session: Http2Session;
  peer: string;
  /** Tunnels being opened on it, not yet counted by the session. */
  reserved: number;
}

/** What a tunnel asks for: where the HBONE peer is, the `:authority`, the identities it must present. */
export interface NativeTunnelRequest {
  peer: Endpoint;
  authority: string;
  headers: Record<string, string>;
  identities?: readonly string[];
  socket: Socket;
}

/** An identity refusal, as the data plane classifies it (`outboundFailure`). */
class PinnedIdentityError extends Error {
  readonly code = 'SWY_ERR_UPSTREAM_IDENTITY';
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

/** A failed handshake, as the data plane classifies it. */
class HandshakeError extends Error {
  readonly code = 'SWY_ERR_UPSTREAM_TLS';
}

/**
 * The pooled HBONE client on the engine: one TLS + HTTP/2 connection per (our identity, peer,
 * pinned identities) opened by the engine, up to 100 tunnels each, closed by the engine after
 * five minutes without a tunnel. The server's identity is checked in JavaScript (the data
 * plane's resolver and authorization) before the first tunnel.
 */
export class NativeHbonePool {
  readonly #c: CarrierContext;
  readonly #engine: RelayEngine;
  readonly #tls: () => TlsContext;
  readonly #pools = new Map<string, Pooled[]>();
  readonly #opening = new Map<string, Promise<Pooled>>();

  constructor(context: CarrierContext, engine: RelayEngine, tls: () => TlsContext) {
    this.#c = context;
    this.#engine = engine;
    this.#tls = tls;
  }

  /** Open pooled connections. */
  get connectionCount(): number {
    let n = 0;
    for (const list of this.#pools.values()) n += list.length;
    return n;
  }

  /**
   * Opens a tunnel; resolves once the peer answered 2xx (the socket is the engine's from then
   * on) with the identity the peer presented. Throws an HboneTunnelError for another status
   * (the socket stays usable for another attempt), or the dial's error.
   */
  async open(
    request: NativeTunnelRequest,
  ): Promise<{ tunnel: Extract<OpenedTunnel, { ok: true }>; peer: string }> {
    const pooled = await this.#slot(request.peer, request.identities);
    let opened: OpenedTunnel;
    try {
      opened = await pooled.session.open(request.authority, request.headers, request.socket);
    } finally {
      pooled.reserved -= 1;
    }
    if (!opened.ok)
      throw new HboneTunnelError(
        `HBONE peer ${formatEndpoint(request.peer)} refused the tunnel to ${request.authority}: ${opened.reason}`,
        opened.status ?? 0,
      );
    return { tunnel: opened, peer: pooled.peer };
  }

  /** GOAWAY on every pooled connection: open tunnels finish. */
  close(): void {
    for (const list of this.#pools.values()) for (const p of list) p.session.goaway();
    this.#pools.clear();
  }

  /** A pooled connection with a slot reserved in the same step as the check. */
  async #slot(peer: Endpoint, identities?: readonly string[]): Promise<Pooled> {
    const self = this.#c.workload.identity.current.spiffeId;
    const key = `${self}|${formatEndpoint(peer)}|${JSON.stringify(identities ?? null)}`;
    for (;;) {
      const free = (this.#pools.get(key) ?? []).find(usable);
      if (free) {
        free.reserved += 1;
        return free;
      }
      let opening = this.#opening.get(key);
      if (!opening) {
        opening = this.#connect(peer, key, identities).finally(() => this.#opening.delete(key));
        this.#opening.set(key, opening);
      }
      const opened = await opening;
      if (usable(opened)) {
        opened.reserved += 1;
        return opened;
      }
    }
  }

  async #connect(peer: Endpoint, key: string, identities?: readonly string[]): Promise<Pooled> {
    const { upstream, workload } = this.#c;
    const raw = await upstream.dial({ destination: peer, target: workload.target });
    const hs = await this.#engine.tls({ role: 'client', socket: raw, credentials: this.#tls() });
    if (!hs.ok) throw new HandshakeError(`TLS to ${formatEndpoint(peer)} failed: ${hs.reason} ${hs.detail}`);
    const self = parseSpiffeId(workload.identity.current.spiffeId) as SpiffeId;
    const decision = upstream.checkServer(
      peer.address,
      [hs.spiffeId],
      self,
      workload.policy.outbound?.authorization,
      identities,
    );
    if (!decision.allowed) {
      void hs.reject();
      throw new PinnedIdentityError(
        `${formatEndpoint(peer)} refused: ${decision.reason}`,
        decision.code ?? 'policy',
      );
    }
    const pooled: Pooled = { session: hs.http2({ role: 'client' }), peer: hs.spiffeId, reserved: 0 };
    this.#pools.set(key, [...(this.#pools.get(key) ?? []), pooled]);
    void pooled.session.ended.then(() => {
      const list = this.#pools.get(key)?.filter((p) => p !== pooled) ?? [];
      if (list.length > 0) this.#pools.set(key, list);
      else this.#pools.delete(key);
    });
    return pooled;
  }
}

const usable = (p: Pooled) => p.session.usable && p.session.streams + p.reserved < STREAMS_PER_CONNECTION;
