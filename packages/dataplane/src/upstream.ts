import type { Socket } from 'node:net';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { SocketOps, Target } from '@switchyard/core';
import { formatEndpoint, UpstreamIdentityError, UpstreamTlsError } from '@switchyard/core';
import { type CertificateStore, parseSpiffeId, type SpiffeId, spiffeIdsFromSan } from '@switchyard/mesh';
import type { Endpoint } from './decide.js';
import {
  checkServerIdentity,
  type IdentityFallback,
  type IdentityResolver,
  type ServerIdentityDecision,
  type ServerIdentityFacts,
} from './identity.js';
import type { Logger } from './logger.js';
import { type CompiledServerCheck, compileServerCheck } from './server-admission.js';
import { guardTlsRecords } from './tls-record-guard.js';
import type { TlsFlood } from './tls-record-limits.js';
import { TruncationGuard } from './truncation-guard.js';

/** A plain upstream dial. */
export interface PlainDial {
  destination: Endpoint;
  /** Keep this client address as the source (transparent drivers only; ignored otherwise). */
  source?: string | undefined;
  target?: Target | undefined;
  signal?: AbortSignal | undefined;
}

/** An mTLS upstream dial: the server's identity is checked against what is expected of `peer`. */
export interface TlsDial {
  /** Where to connect. */
  peer: Endpoint;
  certificates: CertificateStore;
  target?: Target | undefined;
  /** ALPN to offer (`['h2']` for HBONE). */
  alpn?: string[];
  signal?: AbortSignal | undefined;
  /** Allow rules on top of pinning. */
  authorization?: import('@switchyard/mesh').AuthorizationPolicy | undefined;
  /** The identities `peer` must present, known for this dial (a Service endpoint's pod); default: the resolver's. */
  identities?: readonly string[] | undefined;
  /**
   * Fail the TLS socket (an error, so a relay resets its app) when the server's TCP ends without
   * a TLS close_notify, as the native engine does, instead of reading that as a clean end: a
   * server's denial after the handshake ends this way. Default: off (Node reads it as an end).
   */
  failOnTruncation?: boolean | undefined;
  /**
   * Carry the ciphertext to TLS through a JavaScript stream ({@link VerifiedTls.carried}) that
   * hands TLS this many records at a time (implied by `failOnTruncation`, with its default).
   */
  recordsPerTurn?: number | undefined;
  /**
   * Called when the server crosses a limit of `TLS_RECORD_LIMITS` after the handshake (the
   * connection is then destroyed, whether or not this is given): count it.
   */
  onFlood?: ((kind: TlsFlood, detail: string) => void) | undefined;
}

/** A TLS connection whose server identity was checked. */
export interface VerifiedTls {
  tls: TLSSocket;
  /** The TCP socket under it (to reset at a drain deadline). */
  raw: Socket;
  /** The stream carrying the ciphertext to TLS, when the dial asked for one. */
  carried?: TruncationGuard | undefined;
  /** The server's SPIFFE ID. */
  peer: string;
}

/** The shared inputs of {@link Upstream}. */
export interface UpstreamOptions {
  socketOps: SocketOps;
  connectTimeout: number;
  handshakeTimeout: number;
  /** Socket mark of every dial, which capture lets through. Default: the driver's. */
  bypassMark?: number | undefined;
  identities?: IdentityResolver | undefined;
  identityFallback: IdentityFallback;
  logger: Logger;
}

/** TLS 1.3 session tickets kept per (our identity, peer) for resumption; bounded. */
const SESSION_CACHE_SIZE = 1_024;
/**
 * How long a remembered ticket may be resumed: a resumed session shows no certificate, so this
 * bounds how long a server whose certificate expired or whose CA we dropped stays accepted.
 */
const SESSION_MAX_AGE_MS = 5 * 60_000;

/**
 * The one upstream dialer (undici's connector): it owns connect and handshake timeouts, the
 * bypass mark, keeping the client's address as source, TLS session resumption and server
 * identity pinning. Callers never set any of these again. Dials never wait on each other.
 */
export class Upstream {
  readonly #o: UpstreamOptions;
  /** Per (our identity, peer, ALPN): the last session ticket and the SPIFFE IDs its full handshake verified. */
  readonly #sessions = new Map<string, { ticket: Buffer; presented: string[]; at: number }>();

  constructor(options: UpstreamOptions) {
    this.#o = options;
  }

  /** Whether dials can keep a non-local client address as their source. */
  get preservesSource(): boolean {
    return this.#o.socketOps.preservesSource;
  }

  /** Whether a plain dial without target or source is a connect(2) a native engine in this process may make itself. */
  get inProcessDial(): boolean {
    return this.#o.socketOps.inProcessDial === true;
  }

  /** Connects in plain TCP. Rejects with the socket error (its `code` intact). */
  async dial(d: PlainDial): Promise<Socket> {
    const socket = await this.#o.socketOps.dial({
      destination: d.destination,
      timeout: this.#o.connectTimeout,
      ...(d.source !== undefined && this.preservesSource ? { source: { address: d.source } } : {}),
      ...(d.target ? { target: d.target } : {}),
      ...(this.#o.bypassMark !== undefined ? { mark: this.#o.bypassMark } : {}),
      ...(d.signal ? { signal: d.signal } : {}),
    });
    // A proxy must not add Nagle's delay to the small writes it relays.
    socket.setNoDelay(true);
    socket.on('error', (error) => this.#o.logger.debug('upstream socket error', { reason: error.message }));
    return socket;
  }

  /**
   * Connects and opens TLS 1.3 with the workload's certificate, then checks the server: exactly
   * one SPIFFE ID, one the identity resolver expects for `peer.address`, allowed by policy.
   *
   * @throws UpstreamTlsError when the handshake fails or times out; UpstreamIdentityError when
   *   the server is not who it must be.
   */
  async tls(d: TlsDial): Promise<VerifiedTls> {
    const raw = await this.dial({ destination: d.peer, target: d.target, signal: d.signal });
    const cert = d.certificates.current;
    // Keyed by our certificate's serial too: a rotation (new certificate, maybe a new bundle)
    // never resumes what the old one verified.
    const key = `${cert.serialNumber}|${cert.spiffeId}|${d.peer.address}|${d.peer.port}|${d.alpn?.join(',') ?? ''}|${JSON.stringify(d.identities ?? null)}`;
    const remembered = this.#sessions.get(key);
    const cached = remembered && Date.now() - remembered.at < SESSION_MAX_AGE_MS ? remembered : undefined;
    let tls: TLSSocket;
    const guard =
      d.failOnTruncation || d.recordsPerTurn !== undefined
        ? new TruncationGuard(raw, d.recordsPerTurn)
        : undefined;
    try {
      tls = tlsConnect({
        socket: guard ?? raw,
        cert: cert.chain,
        key: cert.key,
        ca: cert.bundle,
        minVersion: 'TLSv1.3',
        ...(d.alpn ? { ALPNProtocols: d.alpn } : {}),
        ...(cached ? { session: cached.ticket } : {}),
        // The server is named by its SPIFFE ID, checked below, not by a DNS name.
        checkServerIdentity: () => undefined,
      } as ConnectionOptions);
    } catch (error) {
      raw.destroy();
      throw new UpstreamTlsError(
        `TLS to ${formatEndpoint(d.peer)} could not start: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    // Tickets arrive after the handshake; one is kept only once the identity behind it passed.
    let verified: string[] = [];
    tls.on('session', (ticket: Buffer) => this.#remember(key, ticket, verified));
    await this.#handshake(tls, d);
    // A resumed session shows no certificate; it is bound to the full handshake that verified the
    // identities remembered with its ticket, which are checked again against today's rules.
    const presented =
      tls.isSessionReused() && cached
        ? cached.presented
        : spiffeIdsFromSan(tls.getPeerCertificate()?.subjectaltname);
    const self = parseSpiffeId(cert.spiffeId) as SpiffeId;
    const decision = this.checkServer(d.peer.address, presented, self, d.authorization, d.identities);
    if (!decision.allowed || (d.alpn && !d.alpn.includes(String(tls.alpnProtocol)))) {
      tls.destroy();
      this.#sessions.delete(key);
      throw new UpstreamIdentityError(
        decision.allowed
          ? `${formatEndpoint(d.peer)} did not agree on ${d.alpn?.join(' or ')}`
          : `${formatEndpoint(d.peer)} refused: ${decision.reason}`,
        decision.code ?? 'alpn',
      );
    }
    verified = presented;
    // A server is held to the same TLS record limits as a client (KeyUpdates, records without data).
    guardTlsRecords(tls, guard ?? raw, 'client', (kind, detail) => d.onFlood?.(kind, detail));
    if (guard) {
      if (d.failOnTruncation) guard.watch(tls);
      // abort() writes its undecryptable record on the TCP socket under TLS (`_parent`).
      (tls as TLSSocket & { _parent?: unknown })._parent = raw;
    }
    return { tls, raw, peer: presented[0] as string, ...(guard ? { carried: guard } : {}) };
  }

  /**
   * The check {@link Upstream.tls} makes of a server, for TLS that runs elsewhere (HBONE's POST
   * mode, end to end inside a stream): exactly one SPIFFE ID, the one expected for `address`,
   * allowed by `authorization`.
   */
  checkServer(
    address: string,
    presented: readonly string[],
    self: SpiffeId,
    authorization?: import('@switchyard/mesh').AuthorizationPolicy,
    identities?: readonly string[],
  ): ServerIdentityDecision {
    return checkServerIdentity({ presented, ...this.#serverFacts(address, self, authorization, identities) });
  }

  /**
   * {@link Upstream.checkServer} compiled for `address`, for a handshake that decides the server
   * where it runs (the native engine's admission table): the same resolver, fallback and rules.
   */
  compileServer(
    address: string,
    self: SpiffeId,
    authorization?: import('@switchyard/mesh').AuthorizationPolicy,
    identities?: readonly string[],
  ): CompiledServerCheck {
    return compileServerCheck(this.#serverFacts(address, self, authorization, identities));
  }

  /** What a server is checked against: this dialer's resolver and fallback, and the dial's rules. */
  #serverFacts(
    address: string,
    self: SpiffeId,
    authorization?: import('@switchyard/mesh').AuthorizationPolicy,
    identities?: readonly string[],
  ): Omit<ServerIdentityFacts, 'presented'> {
    return {
      address,
      // Identities known for this dial (a Service endpoint's pod) win over the resolver's.
      resolver: identities ? { expected: () => identities } : this.#o.identities,
      fallback: this.#o.identityFallback,
      self,
      authorization,
    };
  }

  /** How long a connect may take (the data plane's connect timeout), ms. */
  get connectTimeout(): number {
    return this.#o.connectTimeout;
  }

  /** How long a TLS handshake may take (the data plane's handshake timeout). */
  get handshakeTimeout(): number {
    return this.#o.handshakeTimeout;
  }

  #handshake(tls: TLSSocket, d: TlsDial): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => fail(error.message, error);
      const onClose = () => fail('the server closed the connection');
      const settle = () => {
        clearTimeout(timer);
        tls.off('error', onError);
        tls.off('close', onClose);
      };
      const fail = (reason: string, cause?: unknown) => {
        settle();
        tls.destroy();
        reject(new UpstreamTlsError(`TLS to ${formatEndpoint(d.peer)} failed: ${reason}`, { cause }));
      };
      const timer = setTimeout(
        () => fail(`no handshake within ${this.#o.handshakeTimeout} ms`),
        this.#o.handshakeTimeout,
      );
      tls.once('error', onError);
      tls.once('close', onClose);
      tls.once('secureConnect', () => {
        settle();
        // Whoever takes the socket adds its own handler; until then an error is only logged.
        tls.on('error', (error) => this.#o.logger.debug('upstream TLS error', { reason: error.message }));
        resolve();
      });
    });
  }

  #remember(key: string, ticket: Buffer, presented: string[]): void {
    if (presented.length === 0) return;
    this.#sessions.delete(key);
    this.#sessions.set(key, { ticket, presented, at: Date.now() });
    if (this.#sessions.size > SESSION_CACHE_SIZE) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
  }
}

/** `10.0.0.1:80` or `[fd00::1]:80` (core's one formatter, kept here under its old home). */
export { formatEndpoint };
