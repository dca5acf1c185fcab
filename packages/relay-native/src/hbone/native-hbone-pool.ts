import type { Socket } from 'node:net';
import { HboneTunnelError } from '@switchyard/core';
import { type CarrierContext, type Endpoint, formatEndpoint } from '@switchyard/dataplane/carrier';
import { HBONE_SETTINGS, poolKey, TunnelPools } from '@switchyard/hbone';
import { parseSpiffeId, type SpiffeId } from '@switchyard/mesh';
import type { Http2Session, OpenedTunnel } from '../h2-session.js';
import type { RelayEngine } from '../relay-engine.js';
import type { TlsContext } from '../tls-credentials.js';

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
  readonly #pools = new TunnelPools<Pooled>(usable, (p) => {
    p.reserved += 1;
  });

  constructor(context: CarrierContext, engine: RelayEngine, tls: () => TlsContext) {
    this.#c = context;
    this.#engine = engine;
    this.#tls = tls;
  }

  /** Open pooled connections. */
  get connectionCount(): number {
    return this.#pools.count;
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
    this.#pools.clear((p) => p.session.goaway());
  }

  /** A pooled connection with a slot reserved in the same step as the check (see TunnelPools). */
  #slot(peer: Endpoint, identities?: readonly string[]): Promise<Pooled> {
    const key = poolKey(this.#c.workload.identity.current.spiffeId, formatEndpoint(peer), identities);
    return this.#pools.slot(key, () => this.#connect(peer, key, identities));
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
    this.#pools.add(key, pooled);
    void pooled.session.ended.then((result) => {
      this.#pools.remove(key, pooled);
      this.#countAbuse(result.reason, result.detail);
    });
    return pooled;
  }

  /**
   * An upstream the engine cut for abuse (ENHANCE_YOUR_CALM, a TLS flood) is counted as the
   * JavaScript client counts it, `direction="outbound"`; never penalized (it is not a source).
   */
  #countAbuse(reason: string, detail: string): void {
    const word = detail.split(':')[0] ?? reason;
    const { metrics, labels } = this.#c;
    if (reason === 'enhance-your-calm')
      metrics.streamResets.inc({ workload: labels.workload, reason: word, direction: 'outbound' });
    if (reason === 'tls-flood') metrics.tlsFloods.inc({ ...labels, direction: 'outbound', reason: word });
  }
}

/** Room for one more tunnel: HBONE's (ztunnel's) 100 streams per connection. */
const usable = (p: Pooled) =>
  p.session.usable && p.session.streams + p.reserved < HBONE_SETTINGS.maxConcurrentStreams;
