import type { Server, Socket } from 'node:net';
import { PROXY_PORTS, type SocketOps, type Target } from '@switchyard/core';
import {
  DEFAULT_LIMITS,
  DEFAULT_TIMEOUTS,
  HandshakeGate,
  type Logger,
  silentLogger,
  splice,
  unmapAddress,
} from '@switchyard/dataplane';
import { createProxyMetrics, type ProxyMetrics } from '@switchyard/mesh';
import type { HboneAuthority } from './authority.js';
import { readServerName } from './client-hello.js';
import type { HboneClient } from './hbone-client.js';

/** The SNI gateway's port, as the hbone project uses it (core's {@link PROXY_PORTS}). */
export const SNI_GATEWAY_PORT = PROXY_PORTS.sniGateway;

/** Where a server name leads: the HBONE peer to tunnel through, and the target behind it. */
export interface SniRoute {
  peer: HboneAuthority;
  destination: HboneAuthority;
}

/** Options of {@link SniGateway}. */
export interface SniGatewayOptions {
  socketOps: SocketOps;
  /** The HBONE client whose pool carries the tunnels (with the gateway's own identity). */
  client: HboneClient;
  /** Maps a server name to its route; undefined refuses the connection. */
  route: (serverName: string) => SniRoute | undefined;
  port?: number;
  host?: string;
  target?: Target;
  metrics?: ProxyMetrics;
  /** Told why a connection was refused (no ClientHello, not TLS, no SNI, no route). */
  onRefused?: (reason: string) => void;
  /** Give up on a client that has not sent its ClientHello after this long, ms. Default: the data plane's handshake timeout. */
  helloTimeoutMs?: number;
  /** Where per-connection failures are logged (debug). Default: nowhere. */
  logger?: Logger;
  /** Most connections at once. Default: the data plane's connection limit. */
  maxConnections?: number;
}

/**
 * The SNI-routing gateway (from the hbone project): it reads the server name from a client's TLS
 * ClientHello — without terminating the session — and forwards the whole session through an HBONE
 * tunnel to the peer that name routes to. The client's TLS runs end to end with the target; the
 * gateway never holds its keys.
 */
export class SniGateway {
  readonly metrics: ProxyMetrics;
  readonly #o: SniGatewayOptions;
  #listener: Server | undefined;
  readonly #open = new Set<Socket>();
  readonly #log: Logger;
  readonly #hellos = new HandshakeGate(
    DEFAULT_LIMITS.maxPendingHandshakes,
    DEFAULT_LIMITS.maxPendingHandshakesPerSource,
  );

  constructor(options: SniGatewayOptions) {
    this.#o = options;
    this.#log = options.logger ?? silentLogger;
    this.metrics = options.metrics ?? createProxyMetrics();
  }

  get port(): number {
    return (this.#listener?.address() as { port: number } | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    this.#listener = await this.#o.socketOps.listen({
      port: this.#o.port ?? SNI_GATEWAY_PORT,
      ...(this.#o.host ? { host: this.#o.host } : {}),
      ...(this.#o.target ? { target: this.#o.target } : {}),
    });
    this.#listener.on('connection', (s: Socket) => void this.#handle(s));
  }

  async close(): Promise<void> {
    for (const s of this.#open) s.destroy();
    await new Promise<void>((r) => (this.#listener ? this.#listener.close(() => r()) : r()));
  }

  #refuse(socket: Socket, reason: string): void {
    this.metrics.connections.inc({ direction: 'inbound', outcome: 'refused' });
    this.#o.onRefused?.(reason);
    socket.destroy();
  }

  async #handle(socket: Socket): Promise<void> {
    socket.on('error', (error) => this.#log.debug('SNI gateway socket error', { reason: error.message }));
    const source = unmapAddress(socket.remoteAddress ?? '');
    if (this.#open.size >= (this.#o.maxConnections ?? DEFAULT_LIMITS.maxConnections))
      return this.#refuse(socket, 'connection limit reached');
    // Clients that have not sent their ClientHello yet are capped apart, per source too.
    const waiting = this.#hellos.admit(source);
    if ('refused' in waiting)
      return this.#refuse(socket, `too many clients waiting to say hello (${waiting.refused})`);
    socket.once('close', () => waiting.release());
    socket.setNoDelay(true);
    socket.setTimeout(DEFAULT_TIMEOUTS.idle, () => socket.destroy());
    this.#open.add(socket);
    socket.once('close', () => this.#open.delete(socket));
    socket.pause();
    // Gather the first record, holding on to every byte: it is forwarded as it came.
    const chunks: Buffer[] = [];
    const hello = await new Promise<Buffer | undefined>((resolve) => {
      const timer = setTimeout(
        () => resolve(undefined),
        this.#o.helloTimeoutMs ?? DEFAULT_TIMEOUTS.handshake,
      );
      let size = 0;
      const onData = (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        const buffered = Buffer.concat(chunks, size);
        if (readServerName(buffered).kind !== 'incomplete') {
          clearTimeout(timer);
          socket.off('data', onData);
          socket.pause();
          resolve(buffered);
        }
      };
      socket.on('data', onData);
      socket.once('close', () => resolve(undefined));
      socket.resume();
    });
    waiting.release();
    if (!hello) return this.#refuse(socket, 'no ClientHello');
    const parsed = readServerName(hello);
    if (parsed.kind !== 'found')
      return this.#refuse(socket, parsed.kind === 'not-tls' ? parsed.reason : 'no server name');
    const route = this.#o.route(parsed.serverName);
    if (!route) return this.#refuse(socket, `no route for ${parsed.serverName}`);
    let tunnel: Awaited<ReturnType<HboneClient['connect']>>;
    try {
      tunnel = await this.#o.client.connect({
        destination: route.destination,
        peer: route.peer,
        client: { address: source, port: socket.remotePort ?? 0 },
      });
    } catch {
      this.metrics.connections.inc({ direction: 'inbound', outcome: 'failed' });
      return void socket.destroy();
    }
    if (socket.destroyed) return void tunnel.destroy();
    tunnel.write(hello);
    await splice(socket, tunnel);
    this.metrics.connections.inc({ direction: 'inbound', outcome: 'spliced' });
  }
}
