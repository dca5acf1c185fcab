import { type ClientHttp2Session, constants as h2, connect as h2connect } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Accepted, CarrierContext, CarrierListener, PeerSession } from '@switchyard/dataplane/carrier';
import {
  type AuthorizationPolicy,
  defaultOutboundPolicy,
  parseSpiffeId,
  type SpiffeId,
} from '@switchyard/mesh';
import { formatAuthority, type HboneAuthority } from './authority.js';
import { awaitTunnel, HboneConnectError } from './hbone-client-error.js';
import type { HboneServer } from './hbone-server.js';
import { keepAlive } from './keepalive.js';
import { HBONE_SETTINGS } from './settings.js';

/** What the reverse-tunnel acceptor takes (`hboneCarrier({ reverseTunnel })`, with `policy.ports.reverseTunnel`). */
export interface ReverseTunnelSettings {
  /** Which workloads may register. Default: our trust domain. */
  authorization?: AuthorizationPolicy;
}

/**
 * The gateway side of reverse tunnels (H2R, from the hbone project), as a listener of the HBONE
 * carrier: workloads that cannot be dialled (behind NAT) dial in with mTLS — a handshake the data
 * plane gates, times and authorizes like any other, with the workload's current certificate —
 * and then *serve* HTTP/2 on that connection; the gateway keeps one such connection per workload
 * identity and opens CONNECT streams through it.
 */
export class ReverseTunnelListener {
  readonly #c: CarrierContext;
  readonly #sessions = new Map<string, ClientHttp2Session>();
  /** The listener the hbone carrier declares for the acceptor. */
  readonly listener: CarrierListener;

  constructor(context: CarrierContext, server: HboneServer, port: number, settings: ReverseTunnelSettings) {
    this.#c = context;
    const inbound = context.workload.policy.inbound;
    const self = parseSpiffeId(context.workload.identity.current.spiffeId) as SpiffeId;
    this.listener = {
      name: 'reverse-tunnel',
      port,
      ...(inbound?.host ? { host: inbound.host } : {}),
      ...(inbound?.families ? { families: inbound.families } : {}),
      // HTTP/2 reads the socket in native code; liveness is PING's job (keepalive.ts).
      idle: false,
      // The HBONE server's TLS (ALPN h2), which follows certificate rotation.
      handshake: (c) => server.handshake(c),
      authorization: settings.authorization ?? defaultOutboundPolicy(self),
      accept: (c, session) => this.#register(c, session),
    };
  }

  /** The workload identities holding a reverse connection now. */
  get registered(): string[] {
    return [...this.#sessions.keys()];
  }

  /** Opens a tunnel to `destination` through the reverse connection of the workload `identity`. */
  async open(identity: string, destination: HboneAuthority): Promise<Duplex> {
    const session = this.#sessions.get(identity);
    if (!session) throw new HboneConnectError(`no reverse connection from ${identity}`, 503);
    const stream = session.request(
      { [h2.HTTP2_HEADER_METHOD]: 'CONNECT', [h2.HTTP2_HEADER_AUTHORITY]: formatAuthority(destination) },
      { endStream: false },
    );
    await awaitTunnel(stream, identity, formatAuthority(destination), this.#c.timeouts.connect);
    return stream;
  }

  /** Closes every reverse connection. */
  close(): void {
    for (const s of this.#sessions.values()) s.destroy();
    this.#sessions.clear();
  }

  #register(c: Accepted, peer: PeerSession | undefined): void {
    const tls = peer?.outer as TLSSocket | undefined;
    const identity = peer?.peer;
    if (!tls || !identity || tls.alpnProtocol !== 'h2') return void c.socket.destroy();
    const log = this.#c.logger;
    // The dialled side serves HTTP/2: here we are its client, over the connection it opened.
    const session = h2connect('https://reverse.hbone', {
      createConnection: () => tls,
      settings: {
        initialWindowSize: HBONE_SETTINGS.streamWindow,
        maxFrameSize: HBONE_SETTINGS.maxFrameSize,
        enablePush: false,
      },
    });
    keepAlive(session, log);
    session.on('error', (error) =>
      log.debug('reverse tunnel session error', { identity, reason: error.message }),
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
