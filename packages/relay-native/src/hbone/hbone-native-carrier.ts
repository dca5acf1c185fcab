import {
  type Accepted,
  type Carrier,
  type CarrierContext,
  type CarrierFactory,
  type CarrierListener,
  type Endpoint,
  formatEndpoint,
  type ServiceRoute,
} from '@switchyard/dataplane/carrier';
import {
  forwardedFor,
  HBONE_PORT,
  type TunnelAttempt,
  type TunnelFailure,
  tunnelAttempts,
  tunnelFailed,
  tunnelInfo,
} from '@switchyard/hbone';
import { EngineCarrierParts } from '../carrier/engine-carrier-parts.js';
import { EngineStandIn } from '../carrier/engine-stand-in.js';
import { engineCarrierFactory } from '../carrier/shared-engine.js';
import type { RelayEngine } from '../relay-engine.js';
import { stopReading } from '../socket-handoff.js';
import { NativeHbonePool } from './native-hbone-pool.js';
import { NativeHboneServer } from './native-hbone-server.js';
import { tunnelOutcome } from './tunnel-outcome.js';

/** Options of {@link hboneNativeCarrier}. */
export interface HboneNativeCarrierOptions {
  /** The engine to use. Default: one per factory, started on first use, closed with the last workload. */
  engine?: RelayEngine;
  /** Key-exchange groups (OpenSSL syntax). Default: OpenSSL's, the same as Node's. */
  groups?: string;
}

/**
 * The HBONE carrier on the native engine: the same wire (ztunnel's), identities and decisions
 * as the JavaScript `hbone` carrier, with TLS, HTTP/2 framing and the tunnels' bytes on engine
 * threads. Peers reach the workload on its 15008; captured outbound connections become CONNECT
 * tunnels on pooled connections to the destination's 15008, the server's identity pinned.
 *
 * @example
 * ```ts
 * await plane.addWorkload({ id: 'web/api', identity, carrier: hboneNativeCarrier(), policy });
 * ```
 */
export function hboneNativeCarrier(options: HboneNativeCarrierOptions = {}): CarrierFactory {
  return engineCarrierFactory(
    'hbone-native',
    options.engine,
    (context, engine, release) => new HboneNativeCarrier(context, engine, options, release),
  );
}

class HboneNativeCarrier implements Carrier {
  readonly listeners: readonly CarrierListener[];
  readonly routesServices = true;
  readonly #c: CarrierContext;
  readonly #server: NativeHboneServer;
  readonly #pool: NativeHbonePool;
  readonly #tunnels = new Set<EngineStandIn>();
  readonly #parts: EngineCarrierParts;

  constructor(
    context: CarrierContext,
    engine: RelayEngine,
    o: HboneNativeCarrierOptions,
    release: () => void,
  ) {
    this.#c = context;
    const parts = new EngineCarrierParts(context, engine, release, {
      alpn: 'h2',
      ...(o.groups ? { groups: o.groups } : {}),
    });
    this.#parts = parts;
    this.#server = new NativeHboneServer(context, engine, () => parts.tls);
    this.#pool = new NativeHbonePool(context, engine, () => parts.tls);
    const ports = context.workload.policy.ports;
    const port = ports?.hbone ?? (ports ? undefined : HBONE_PORT);
    this.listeners = port === undefined ? [] : [this.#listener(port)];
  }

  /** False while an engine thread is stalled: the data plane is not ready then. */
  get healthy(): boolean {
    return this.#parts.healthy;
  }

  /** Peers' HBONE on 15008: the engine's TLS, then its HTTP/2 (a refused peer is answered 401 per stream). */
  #listener(port: number): CarrierListener {
    const inbound = this.#c.workload.policy.inbound;
    return {
      name: 'hbone',
      port,
      handshake: (c) => this.#server.handshake(c),
      answersDenied: true,
      // HTTP/2 runs in the engine; liveness is its PING keepalive.
      idle: false,
      ...(inbound?.host ? { host: inbound.host } : {}),
      ...(inbound?.families ? { families: inbound.families } : {}),
      accept: (c, session, authorization) => this.#server.accept(c, session, authorization),
    };
  }

  async outbound(c: Accepted, destination: Endpoint, route?: ServiceRoute): Promise<void> {
    stopReading(c.socket); // before any await: the engine will read it, never Node
    const info = tunnelInfo(c, destination, route);
    const attempts = tunnelAttempts(destination, route, this.#c.workload.policy.outbound?.route);
    for (const [i, attempt] of attempts.entries()) {
      // Held from the first attempt: an endpoint being tried (or timing out) is not idle.
      const release = attempt.endpoint ? route?.hold(attempt.endpoint) : undefined;
      try {
        const opened = await this.#open(c, attempt);
        await this.#carry(c, opened, { ...info, peer: opened.peer });
        return;
      } catch (error) {
        const e = error as TunnelFailure;
        if (route && attempt.endpoint) route.failed(attempt.endpoint);
        // A refusal or a timeout is tried once on another endpoint; a wrong identity never is.
        const retry =
          e.code !== 'SWY_ERR_UPSTREAM_IDENTITY' && i < attempts.length - 1 && !c.socket.destroyed;
        if (route && attempt.endpoint && retry) {
          route.retried(attempt.endpoint, e.message);
          continue;
        }
        return tunnelFailed(this.#c, c, e, info);
      } finally {
        release?.();
      }
    }
  }

  #open(c: Accepted, attempt: TunnelAttempt) {
    return this.#pool.open({
      peer: attempt.peer,
      authority: formatEndpoint(attempt.authority),
      headers: { forwarded: forwardedFor(c.client.address, c.client.port) },
      socket: c.socket,
      ...(attempt.endpoint ? { identities: attempt.endpoint.identities } : {}),
    });
  }

  /** The tunnel is open: the engine holds the client's socket, a stand-in its place in the data plane. */
  async #carry(
    c: Accepted,
    opened: Awaited<ReturnType<NativeHbonePool['open']>>,
    report: { source: string; destination: string; peer: string; service?: string },
  ): Promise<void> {
    const standIn = new EngineStandIn(opened.tunnel.reset);
    if (!this.#c.replace(c, standIn)) {
      opened.tunnel.reset();
      return;
    }
    c.socket.destroy(); // Node's copy only
    this.#tunnels.add(standIn);
    const result = await opened.tunnel.ended;
    this.#tunnels.delete(standIn);
    if (result.reason === 'eof') standIn.destroy();
    else standIn.resetAndDestroy();
    const { up, down, ...rest } = tunnelOutcome(result);
    // the engine's `up` runs from the HBONE peer to the client socket: the data plane's `down`
    this.#c.relayed('outbound', { up: down, down: up, ...rest }, report);
  }

  drain(): void {
    this.#server.drain();
  }

  async close(): Promise<void> {
    this.#parts.stop();
    this.#pool.close();
    for (const t of this.#tunnels) t.reset();
    this.#tunnels.clear();
    await this.#server.close();
    this.#parts.release();
  }
}
