import type { Server, Socket } from 'node:net';
import {
  type ConnectionOptions,
  createSecureContext,
  createServer as createTlsServer,
  type SecureContext,
  type TLSSocket,
  type Server as TlsServer,
  connect as tlsConnect,
} from 'node:tls';
import { cidrMatcher, type IpFamily, type SocketAddress } from '@switchyard/core';
import {
  type AuthorizationPolicy,
  authorize,
  createProxyMetrics,
  type Direction,
  defaultInboundPolicy,
  defaultOutboundPolicy,
  type ProxyMetrics,
  parseSpiffeId,
  type SpiffeId,
  spiffeIdsFromSan,
  splice,
  type WorkloadCertificate,
} from '@switchyard/mesh';
import { type ConnectionEvent, connectionChannel } from './connection-events.js';
import {
  DEFAULT_TIMEOUTS,
  type Endpoint,
  type LogLine,
  type MtlsSidecarOptions,
  type Timeouts,
} from './options.js';

const FAMILIES: IpFamily[] = ['ipv4', 'ipv6'];

function jsonLog(line: LogLine): void {
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), component: 'mtls-proxy', ...line })}\n`,
  );
}

function tupleKey(s: Socket): string {
  return `${s.remoteAddress}|${s.remotePort}|${s.localAddress}|${s.localPort}`;
}

function peerIdentity(socket: TLSSocket): string | undefined {
  return spiffeIdsFromSan(socket.getPeerCertificate()?.subjectaltname)[0];
}

const endpoint = (e: Endpoint | SocketAddress) =>
  e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;

/**
 * The transparent mTLS sidecar. Outbound: captured plain TCP to a mesh destination leaves as
 * TLS 1.3 with the workload's certificate, after the server's SPIFFE identity is checked.
 * Inbound: mTLS from peers is terminated, the peer's identity authorized, and the bytes handed
 * to the app at the original destination, from the client's own address where the driver can.
 * A TLS or identity failure closes the connection: nothing falls back to plaintext unless the
 * options say so (`passthroughOutsideMesh`, `plaintextSources`, `plaintextPorts`).
 */
export class MtlsSidecar {
  readonly metrics: ProxyMetrics;
  readonly #o: MtlsSidecarOptions;
  readonly #inMesh: (address: string) => boolean;
  readonly #plaintextSource: (address: string) => boolean;
  readonly #timeouts: Timeouts;
  readonly #log: (line: LogLine) => void;
  readonly #servers: Server[] = [];
  readonly #addresses: { direction: Direction; address: string; port: number }[] = [];
  readonly #open = new Set<Socket>();
  readonly #active: Record<Direction, number> = { inbound: 0, outbound: 0 };
  readonly #pendingDestinations = new Map<string, Endpoint>();
  #self: SpiffeId;
  #clientContext: SecureContext;
  #tlsServer: TlsServer | undefined;
  #state: 'new' | 'running' | 'draining' | 'stopped' = 'new';
  readonly #onRotated = (cert: WorkloadCertificate) => this.#useCertificate(cert, 'rotated');
  readonly #onExpiring = (cert: WorkloadCertificate, msLeft: number) =>
    this.#log({
      level: 'warn',
      msg: 'certificate expires soon and has not been replaced',
      spiffeId: cert.spiffeId,
      expiresInSeconds: Math.round(msLeft / 1000),
    });

  constructor(options: MtlsSidecarOptions) {
    if (!options.inbound && !options.outbound)
      throw new TypeError('MtlsSidecar needs inbound and/or outbound options');
    this.#o = options;
    // Parsed once here, not on every connection.
    this.#inMesh = cidrMatcher(options.outbound?.meshCidrs ?? []);
    this.#plaintextSource = cidrMatcher(options.inbound?.plaintextSources ?? []);
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.#log = options.log ?? jsonLog;
    this.metrics = options.metrics ?? createProxyMetrics();
    const cert = options.certificates.current;
    this.#self = parseSpiffeId(cert.spiffeId) as SpiffeId;
    this.#clientContext = this.#context(cert);
  }

  /** The workload identity this sidecar presents. */
  get identity(): string {
    return this.#o.certificates.current.spiffeId;
  }

  /** True while running and not draining: what the readiness endpoint reports. */
  get ready(): boolean {
    return this.#state === 'running';
  }

  /** Connections open now, per direction. */
  get activeConnections(): Readonly<Record<Direction, number>> {
    return { ...this.#active };
  }

  /** The addresses the sidecar listens on. */
  addresses(): { direction: Direction; address: string; port: number }[] {
    return [...this.#addresses];
  }

  /** Opens the listeners. Resolves when every listener is up. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error('MtlsSidecar.start() may be called once');
    const { inbound, outbound } = this.#o;
    if (inbound) {
      this.#tlsServer = createTlsServer({
        ...this.#contextOptions(this.#o.certificates.current),
        requestCert: true,
        rejectUnauthorized: true,
        handshakeTimeout: this.#timeouts.handshake,
        allowHalfOpen: true,
      });
      this.#tlsServer.on('secureConnection', (s: TLSSocket) => this.#onInboundSecure(s));
      this.#tlsServer.on('tlsClientError', (error: Error, s: TLSSocket) => {
        this.#pendingDestinations.delete(tupleKey(s));
        // A missing or untrusted client certificate is an identity the policy never saw: a denial.
        // Node rejects an untrusted peer after the handshake with a bare "socket hang up", so look
        // at what the peer presented too.
        const presented = spiffeIdsFromSan(s.getPeerCertificate?.()?.subjectaltname)[0];
        const why = (s as TLSSocket & { authorizationError?: string }).authorizationError;
        const aboutPeer =
          presented !== undefined ||
          why !== undefined ||
          /certificate/i.test(`${error.message} ${(error as { code?: string }).code ?? ''}`);
        this.#finish('inbound', {
          outcome: aboutPeer ? 'denied' : 'failed',
          ...(s.remoteAddress ? { source: s.remoteAddress } : {}),
          ...(presented ? { peer: presented } : {}),
          reason: `TLS handshake failed: ${why ? `untrusted peer certificate (${why})` : error.message}`,
        });
        this.metrics.handshakeFailures.inc({ direction: 'inbound' });
        s.destroy();
      });
      await this.#listen('inbound', inbound.port, inbound.host, inbound.families, (s) => this.#onInbound(s));
    }
    if (outbound)
      await this.#listen(
        'outbound',
        outbound.port,
        outbound.host,
        outbound.families,
        (s) => void this.#onOutbound(s),
      );
    this.#o.certificates.on('rotated', this.#onRotated);
    this.#o.certificates.on('expiring', this.#onExpiring);
    this.metrics.certificateExpiry.set(this.#o.certificates.current.notAfter.getTime() / 1000);
    this.#state = 'running';
    this.#log({
      level: 'info',
      msg: 'mtls sidecar started',
      spiffeId: this.identity,
      listeners: this.addresses(),
    });
  }

  /**
   * Graceful stop: stop accepting at once, let open connections finish for up to `deadlineMs`,
   * then close what is left. Resolves when everything is closed.
   */
  async drain(deadlineMs = 30_000): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'draining') return;
    this.#state = 'draining';
    this.#log({ level: 'info', msg: 'draining', open: this.#open.size, deadlineMs });
    const closed = Promise.all(this.#servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    const deadline = Date.now() + deadlineMs;
    while (this.#open.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const forced = this.#open.size;
    for (const s of this.#open) s.destroy();
    await closed;
    this.#o.certificates.off('rotated', this.#onRotated);
    this.#o.certificates.off('expiring', this.#onExpiring);
    this.#state = 'stopped';
    this.#log({ level: 'info', msg: 'stopped', closedAtDeadline: forced });
  }

  /** Stops at once, closing open connections. */
  close(): Promise<void> {
    return this.drain(0);
  }

  #contextOptions(cert: WorkloadCertificate) {
    return { cert: cert.chain, key: cert.key, ca: cert.bundle, minVersion: 'TLSv1.3' as const };
  }

  #context(cert: WorkloadCertificate): SecureContext {
    return createSecureContext(this.#contextOptions(cert));
  }

  #useCertificate(cert: WorkloadCertificate, why: string): void {
    this.#clientContext = this.#context(cert);
    this.#tlsServer?.setSecureContext(this.#contextOptions(cert));
    this.#self = parseSpiffeId(cert.spiffeId) as SpiffeId;
    this.metrics.certificateExpiry.set(cert.notAfter.getTime() / 1000);
    this.#log({
      level: 'info',
      msg: `certificate ${why}`,
      spiffeId: cert.spiffeId,
      serialNumber: cert.serialNumber,
      notAfter: cert.notAfter,
    });
  }

  async #listen(
    direction: Direction,
    port: number,
    host: string | undefined,
    families: IpFamily[] | undefined,
    onConnection: (s: Socket) => void,
  ): Promise<void> {
    const wanted = host !== undefined ? [undefined] : (families ?? FAMILIES);
    for (const family of wanted) {
      try {
        const server = await this.#o.socketOps.listen({
          port,
          ...(host !== undefined ? { host } : {}),
          ...(family ? { family } : {}),
          ...(this.#o.target ? { target: this.#o.target } : {}),
        });
        const bound = server.address() as { address: string; port: number };
        this.#addresses.push({ direction, address: bound.address, port: bound.port });
        server.on('connection', (s: Socket) => this.#admit(direction, s, onConnection));
        this.#servers.push(server);
      } catch (error) {
        const code = (error as { code?: string }).code;
        // A host without IPv6 should not stop an IPv4 sidecar that was not told to need IPv6.
        if (family === 'ipv6' && !families && (code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL')) {
          this.#log({ level: 'warn', msg: `no IPv6 ${direction} listener: ${(error as Error).message}` });
          continue;
        }
        throw error;
      }
    }
  }

  #admit(direction: Direction, socket: Socket, handle: (s: Socket) => void): void {
    socket.on('error', () => {}); // errors are handled where the socket is used; never crash the proxy
    if (this.#state !== 'running' || this.#active[direction] >= (this.#o.maxConnections ?? 10_000)) {
      this.#finish(direction, {
        outcome: 'refused',
        source: socket.remoteAddress,
        reason: this.#state === 'running' ? 'connection limit reached' : 'draining',
      });
      socket.destroy();
      return;
    }
    this.#active[direction] += 1;
    this.metrics.active.inc({ direction });
    this.#open.add(socket);
    // A proxy must not add Nagle's delay to the small writes it relays.
    socket.setNoDelay(true);
    socket.setTimeout(this.#timeouts.idle, () => socket.destroy());
    socket.once('close', () => {
      this.#open.delete(socket);
      this.#active[direction] -= 1;
      this.metrics.active.dec({ direction });
    });
    handle(socket);
  }

  #finish(direction: Direction, event: Omit<ConnectionEvent, 'direction'>): void {
    const full: ConnectionEvent = { direction, ...event };
    this.metrics.connections.inc({ direction, outcome: event.outcome });
    if (event.outcome === 'denied') this.metrics.authorizationDenials.inc({ direction });
    if (event.up !== undefined) this.metrics.bytes.inc({ direction, flow: 'up' }, event.up);
    if (event.down !== undefined) this.metrics.bytes.inc({ direction, flow: 'down' }, event.down);
    if (connectionChannel.hasSubscribers) connectionChannel.publish(full);
    if (this.#o.accessLog) this.#log({ level: 'info', msg: 'connection', ...full });
  }

  async #carry(
    direction: Direction,
    client: Socket | TLSSocket,
    server: Socket | TLSSocket,
    info: Omit<ConnectionEvent, 'direction' | 'outcome'>,
  ) {
    const result = await splice(client, server);
    this.#finish(direction, {
      ...info,
      outcome: 'spliced',
      up: result.aToB,
      down: result.bToA,
      ...(result.error ? { reason: result.error.message } : {}),
    });
  }

  #onInbound(raw: Socket): void {
    const inbound = this.#o.inbound!;
    const destination = inbound.fixedDestination ?? this.#o.socketOps.originalDestination(raw);
    const source = raw.remoteAddress ?? '';
    const plaintext = inbound.plaintextPorts?.includes(destination.port) || this.#plaintextSource(source);
    if (plaintext) {
      void this.#dialAndCarry('inbound', raw, destination, {
        source,
        destination: endpoint(destination),
        reason: 'plaintext allowed',
      });
      return;
    }
    this.#pendingDestinations.set(tupleKey(raw), destination);
    this.#tlsServer!.emit('connection', raw);
  }

  #onInboundSecure(tls: TLSSocket): void {
    const key = tupleKey(tls);
    const destination = this.#pendingDestinations.get(key);
    this.#pendingDestinations.delete(key);
    const peer = peerIdentity(tls);
    const source = tls.remoteAddress ?? '';
    const policy: AuthorizationPolicy = this.#o.inbound?.authorization ?? defaultInboundPolicy(this.#self);
    const decision = authorize(policy, this.#self, peer);
    if (!decision.allowed || !destination) {
      this.#finish('inbound', {
        outcome: 'denied',
        source,
        ...(peer ? { peer } : {}),
        reason: decision.reason,
      });
      tls.destroy();
      return;
    }
    void this.#dialAndCarry('inbound', tls, destination, {
      source,
      destination: endpoint(destination),
      ...(peer ? { peer } : {}),
    });
  }

  async #dialAndCarry(
    direction: Direction,
    client: Socket | TLSSocket,
    destination: Endpoint,
    info: Omit<ConnectionEvent, 'direction' | 'outcome'>,
  ): Promise<void> {
    const keepSource =
      direction === 'inbound' &&
      this.#o.inbound?.preserveSource !== false &&
      this.#o.socketOps.preservesSource &&
      !this.#o.inbound?.fixedDestination;
    let upstream: Socket;
    try {
      upstream = await this.#o.socketOps.dial({
        destination,
        ...(keepSource && client.remoteAddress ? { source: { address: client.remoteAddress } } : {}),
        ...(this.#o.target ? { target: this.#o.target } : {}),
        ...(this.#o.bypassMark !== undefined ? { mark: this.#o.bypassMark } : {}),
        timeout: this.#timeouts.connect,
      });
    } catch (error) {
      this.#finish(direction, {
        ...info,
        outcome: 'failed',
        reason: `connect to ${endpoint(destination)} failed: ${(error as Error).message}`,
      });
      client.destroy();
      return;
    }
    upstream.setNoDelay(true);
    await this.#carry(direction, client, upstream, info);
  }

  async #onOutbound(raw: Socket): Promise<void> {
    const outbound = this.#o.outbound!;
    const destination = outbound.fixedDestination ?? this.#o.socketOps.originalDestination(raw);
    const info = { source: raw.remoteAddress ?? '', destination: endpoint(destination) };
    const inMesh = this.#inMesh(destination.address);
    if (!inMesh) {
      if (outbound.passthroughOutsideMesh)
        return this.#dialAndCarry('outbound', raw, destination, {
          ...info,
          reason: 'outside the mesh: plaintext allowed',
        });
      this.#finish('outbound', {
        ...info,
        outcome: 'refused',
        reason: 'destination is outside the mesh and passthrough is off',
      });
      raw.destroy();
      return;
    }
    let upstream: Socket;
    try {
      upstream = await this.#o.socketOps.dial({
        destination,
        ...(this.#o.target ? { target: this.#o.target } : {}),
        ...(this.#o.bypassMark !== undefined ? { mark: this.#o.bypassMark } : {}),
        timeout: this.#timeouts.connect,
      });
    } catch (error) {
      this.#finish('outbound', {
        ...info,
        outcome: 'failed',
        reason: `connect failed: ${(error as Error).message}`,
      });
      raw.destroy();
      return;
    }
    upstream.setNoDelay(true);
    const tls = tlsConnect({
      socket: upstream,
      secureContext: this.#clientContext,
      rejectUnauthorized: true,
      // The peer is named by its SPIFFE ID, checked below, not by a DNS name.
      checkServerIdentity: () => undefined,
      allowHalfOpen: true,
    } as ConnectionOptions);
    const timer = setTimeout(
      () => tls.destroy(new Error('TLS handshake timed out')),
      this.#timeouts.handshake,
    );
    tls.once('error', (error) => {
      clearTimeout(timer);
      if (!tls.authorized) {
        this.metrics.handshakeFailures.inc({ direction: 'outbound' });
        this.#finish('outbound', {
          ...info,
          outcome: 'failed',
          reason: `TLS to the peer failed: ${error.message}`,
        });
        raw.destroy();
        upstream.destroy();
      }
    });
    tls.once('secureConnect', () => {
      clearTimeout(timer);
      const peer = peerIdentity(tls);
      const decision = authorize(
        outbound.authorization ?? defaultOutboundPolicy(this.#self),
        this.#self,
        peer,
      );
      if (!decision.allowed) {
        this.#finish('outbound', {
          ...info,
          outcome: 'denied',
          ...(peer ? { peer } : {}),
          reason: decision.reason,
        });
        tls.destroy();
        raw.destroy();
        return;
      }
      void this.#carry('outbound', raw, tls, { ...info, ...(peer ? { peer } : {}) });
    });
  }
}
