import type { Server, Socket } from 'node:net';
import { cidrMatcher, type IpFamily, type SocketOps, type Target } from '@switchyard/core';
import {
  type AuthorizationPolicy,
  type CertificateStore,
  createProxyMetrics,
  type ProxyMetrics,
  parseSpiffeId,
  splice,
} from '@switchyard/mesh';
import { HboneClient } from './hbone-client.js';
import { HboneServer, type TunnelEvent } from './hbone-server.js';
import { HBONE_PORT } from './settings.js';

/** Options of {@link HboneSidecar}. */
export interface HboneSidecarOptions {
  socketOps: SocketOps;
  certificates: CertificateStore;
  /** Port captured outbound connections arrive on (15001). Omit for no outbound. */
  outboundPort?: number;
  /** The HBONE listener (15008). Omit for no inbound. */
  hbonePort?: number;
  /** Port captured plain inbound connections arrive on (15006): refused unless allowed below. */
  inboundPort?: number;
  /** Destinations reached through HBONE. Others are refused (or passed through with `passthroughOutsideMesh`). */
  meshCidrs?: string[];
  passthroughOutsideMesh?: boolean;
  /** Plain inbound allowed from these sources (kubelet probes). */
  plaintextSources?: string[];
  inboundAuthorization?: AuthorizationPolicy;
  outboundAuthorization?: AuthorizationPolicy;
  /** Open sockets inside this target's network (a node-level proxy). */
  target?: Target;
  families?: IpFamily[];
  metrics?: ProxyMetrics;
  log?: (line: Record<string, unknown>) => void;
  accessLog?: boolean;
}

/**
 * The HBONE sidecar: outbound captured TCP becomes a CONNECT stream to the destination's port
 * 15008 over a pooled mTLS connection; inbound, the HBONE server on 15008 authorizes the peer and
 * dials the app. Plain TCP captured inbound is refused unless it comes from an allowed source.
 */
export class HboneSidecar {
  readonly metrics: ProxyMetrics;
  readonly client: HboneClient;
  readonly server: HboneServer | undefined;
  readonly #o: HboneSidecarOptions;
  readonly #inMesh: (address: string) => boolean;
  readonly #plaintextSource: (address: string) => boolean;
  readonly #listeners: Server[] = [];
  readonly #open = new Set<Socket>();
  readonly #log: (line: Record<string, unknown>) => void;
  #ready = false;

  constructor(options: HboneSidecarOptions) {
    this.#o = options;
    // Parsed once here, not on every connection.
    this.#inMesh = cidrMatcher(options.meshCidrs ?? []);
    this.#plaintextSource = cidrMatcher(options.plaintextSources ?? []);
    this.metrics = options.metrics ?? createProxyMetrics();
    this.#log =
      options.log ??
      ((line) =>
        process.stderr.write(
          `${JSON.stringify({ time: new Date().toISOString(), component: 'hbone', ...line })}\n`,
        ));
    this.client = new HboneClient({
      socketOps: options.socketOps,
      certificates: options.certificates,
      ...(options.outboundAuthorization ? { authorization: options.outboundAuthorization } : {}),
      ...(options.target ? { target: options.target } : {}),
    });
    const onTunnel = options.accessLog
      ? (e: TunnelEvent) => this.#log({ level: 'info', msg: 'connection', ...e })
      : undefined;
    this.server =
      options.hbonePort !== undefined
        ? new HboneServer({
            socketOps: options.socketOps,
            certificates: options.certificates,
            port: options.hbonePort,
            metrics: this.metrics,
            ...(options.inboundAuthorization ? { authorization: options.inboundAuthorization } : {}),
            ...(options.target ? { target: options.target } : {}),
            ...(onTunnel ? { onTunnel } : {}),
          })
        : undefined;
  }

  /** True while accepting. */
  get ready(): boolean {
    return this.#ready;
  }

  async start(): Promise<void> {
    await this.server?.start();
    if (this.#o.outboundPort !== undefined)
      await this.#listen(this.#o.outboundPort, (s) => void this.#outbound(s));
    if (this.#o.inboundPort !== undefined)
      await this.#listen(this.#o.inboundPort, (s) => void this.#plainInbound(s));
    this.#ready = true;
    this.#log({
      level: 'info',
      msg: 'hbone sidecar started',
      spiffeId: this.#o.certificates.current.spiffeId,
      hbonePort: this.#o.hbonePort ?? null,
      outboundPort: this.#o.outboundPort ?? null,
    });
  }

  /** Stops accepting, lets open tunnels finish for up to `deadlineMs`, then closes everything. */
  async drain(deadlineMs = 30_000): Promise<void> {
    this.#ready = false;
    const closed = Promise.all(this.#listeners.map((l) => new Promise<void>((r) => l.close(() => r()))));
    const serverDone = this.server?.close(deadlineMs);
    const until = Date.now() + deadlineMs;
    while (this.#open.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    for (const s of this.#open) s.destroy();
    this.client.close();
    await Promise.all([closed, serverDone]);
    this.#log({ level: 'info', msg: 'stopped' });
  }

  async #listen(port: number, handle: (s: Socket) => void): Promise<void> {
    for (const family of this.#o.families ?? (['ipv4'] as IpFamily[])) {
      const server = await this.#o.socketOps.listen({
        port,
        family,
        ...(this.#o.target ? { target: this.#o.target } : {}),
      });
      server.on('connection', (s: Socket) => {
        s.on('error', () => {});
        s.setNoDelay(true);
        if (!this.#ready) return void s.destroy();
        this.#open.add(s);
        s.once('close', () => this.#open.delete(s));
        handle(s);
      });
      this.#listeners.push(server);
    }
  }

  #access(event: Record<string, unknown>): void {
    this.metrics.connections.inc({
      direction: event.direction as 'inbound' | 'outbound',
      outcome: String(event.outcome),
    });
    if (this.#o.accessLog) this.#log({ level: 'info', msg: 'connection', ...event });
  }

  async #outbound(raw: Socket): Promise<void> {
    const destination = this.#o.socketOps.originalDestination(raw);
    const info = {
      direction: 'outbound',
      source: raw.remoteAddress,
      destination: `${destination.address}:${destination.port}`,
    };
    const inMesh = this.#inMesh(destination.address);
    if (!inMesh) {
      if (!this.#o.passthroughOutsideMesh) {
        this.#access({ ...info, outcome: 'refused', reason: 'outside the mesh' });
        return void raw.destroy();
      }
      const upstream = await this.#o.socketOps
        .dial({ destination, ...(this.#o.target ? { target: this.#o.target } : {}) })
        .catch(() => undefined);
      if (!upstream) return void raw.destroy();
      await splice(raw, upstream);
      return this.#access({ ...info, outcome: 'spliced', reason: 'outside the mesh: plaintext allowed' });
    }
    const self = parseSpiffeId(this.#o.certificates.current.spiffeId);
    try {
      const tunnel = await this.client.connect({
        destination,
        peer: { address: destination.address, port: HBONE_PORT },
        client: { address: raw.remoteAddress ?? '', port: raw.remotePort ?? 0 },
        ...(self
          ? {
              baggage: {
                'k8s.namespace.name': self.namespace,
                'k8s.serviceaccount.name': self.serviceAccount,
              },
            }
          : {}),
      });
      this.metrics.active.inc({ direction: 'outbound' });
      await splice(raw, tunnel);
      this.metrics.active.dec({ direction: 'outbound' });
      this.#access({ ...info, outcome: 'spliced' });
    } catch (error) {
      this.#access({ ...info, outcome: 'failed', reason: (error as Error).message });
      raw.destroy();
    }
  }

  async #plainInbound(raw: Socket): Promise<void> {
    const source = raw.remoteAddress ?? '';
    if (!this.#plaintextSource(source)) {
      this.#access({
        direction: 'inbound',
        outcome: 'refused',
        source,
        reason: 'plain TCP from a source not allowed; peers must use HBONE on 15008',
      });
      return void raw.destroy();
    }
    const destination = this.#o.socketOps.originalDestination(raw);
    const upstream = await this.#o.socketOps
      .dial({
        destination,
        source: { address: source },
        ...(this.#o.target ? { target: this.#o.target } : {}),
      })
      .catch(() => undefined);
    if (!upstream) return void raw.destroy();
    await splice(raw, upstream);
    this.#access({ direction: 'inbound', outcome: 'spliced', source, reason: 'plaintext allowed' });
  }
}
