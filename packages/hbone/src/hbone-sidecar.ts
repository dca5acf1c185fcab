import type { IpFamily, SocketOps, Target } from '@switchyard/core';
import {
  DataPlane,
  type DataPlaneMetrics,
  type Endpoint,
  type IdentityFallback,
  type IdentityResolver,
  type Limits,
  type ListenerStatus,
  type Logger,
  type Timeouts,
} from '@switchyard/dataplane';
import type { AuthorizationPolicy, CertificateStore } from '@switchyard/mesh';
import { type HboneCarrier, hboneCarrier } from './hbone-carrier.js';
import type { HboneClient } from './hbone-client.js';
import type { HboneServer } from './hbone-server.js';

/** Options of {@link HboneSidecar}. */
export interface HboneSidecarOptions {
  socketOps: SocketOps;
  certificates: CertificateStore;
  /** Port captured outbound connections arrive on (15001). Omit for no outbound. */
  outboundPort?: number;
  /** The HBONE listener (15008). Omit for no HBONE server. */
  hbonePort?: number;
  /** Port captured plain inbound connections arrive on (15006): refused unless allowed below. */
  inboundPort?: number;
  /** Address to listen on. Default: the wildcard of each family. */
  host?: string;
  /** Destinations reached through HBONE. Others are refused (or passed through with `passthroughOutsideMesh`). */
  meshCidrs?: string[];
  passthroughOutsideMesh?: boolean;
  /** Plain inbound allowed from these sources (kubelet probes). */
  plaintextSources?: string[];
  inboundAuthorization?: AuthorizationPolicy;
  outboundAuthorization?: AuthorizationPolicy;
  /** Which identity each peer must present. Default: none, and any identity of our trust domain is accepted. */
  identities?: IdentityResolver;
  /** With `identities`: what to accept from peers it does not know. Default `refuse`. */
  identityFallback?: IdentityFallback;
  /** Addresses this workload owns besides the one a tunnel arrives on. */
  addresses?: string[];
  /** Deliver every tunnel here instead of its `:authority` (benchmarks). */
  fixedDestination?: Endpoint;
  /** Where outbound tunnels go. Default: the destination's address on 15008. */
  route?: (destination: Endpoint) => Endpoint;
  /** Open sockets inside this target's network (a node-level proxy). */
  target?: Target;
  families?: IpFamily[];
  timeouts?: Partial<Timeouts>;
  /** Most connections per direction. Default 10000. */
  maxConnections?: number;
  /** Pending-handshake and connection limits (`maxConnections` above wins). Default: the data plane's. */
  limits?: Partial<Limits>;
  /** Socket mark of upstream dials. Default: the driver's. */
  bypassMark?: number;
  metrics?: DataPlaneMetrics;
  log?: (line: Record<string, unknown>) => void;
  accessLog?: boolean;
}

const WORKLOAD = 'sidecar';

function lineLogger(
  log: (line: Record<string, unknown>) => void,
  base: Record<string, unknown> = {},
): Logger {
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    log({ ...base, ...fields, level, msg });
  return {
    debug: () => {},
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (f) => lineLogger(log, { ...base, ...f }),
  };
}

/**
 * The HBONE sidecar: a one-workload {@link DataPlane} with the hbone carrier. Outbound captured
 * TCP becomes a CONNECT stream to the destination's port 15008 over a pooled mTLS connection;
 * inbound, the HBONE server on 15008 authorizes the peer and dials the app. Plain TCP captured
 * inbound is refused unless it comes from an allowed source.
 */
export class HboneSidecar {
  readonly #o: HboneSidecarOptions;
  readonly #plane: DataPlane;
  #carrier: HboneCarrier | undefined;
  #listeners: ListenerStatus[] = [];

  constructor(options: HboneSidecarOptions) {
    this.#o = options;
    this.#plane = new DataPlane({
      socketOps: options.socketOps,
      ...(options.identities
        ? { identities: options.identities, identityFallback: options.identityFallback ?? 'refuse' }
        : { identityFallback: 'trust-domain' }),
      ...(options.log ? { logger: lineLogger(options.log, { component: 'hbone' }) } : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.timeouts ? { timeouts: options.timeouts } : {}),
      limits: {
        ...options.limits,
        ...(options.maxConnections ? { maxConnections: options.maxConnections } : {}),
      },
      ...(options.bypassMark !== undefined ? { bypassMark: options.bypassMark } : {}),
      accessLog: options.accessLog === true,
    });
  }

  /** The sidecar's metrics. */
  get metrics(): DataPlaneMetrics {
    return this.#plane.metrics;
  }

  /** The pooled HBONE client (for the SNI gateway). Available after start. */
  get client(): HboneClient {
    if (!this.#carrier) throw new Error('HboneSidecar.client is available after start()');
    return this.#carrier.client;
  }

  /** The HBONE server (also serves reverse tunnels, with or without an HBONE port). Available after start. */
  get server(): HboneServer | undefined {
    return this.#carrier?.server;
  }

  /** True while accepting. */
  get ready(): boolean {
    return this.#plane.ready;
  }

  /** Where the sidecar listens (role `hbone`, `inbound`, `outbound`). */
  get listeners(): ListenerStatus[] {
    return [...this.#listeners];
  }

  /** The port of a listener by role (`hbone`, `outbound`, `inbound`), 0 when there is none. */
  port(role: string): number {
    return this.#listeners.find((l) => l.role === role)?.port ?? 0;
  }

  async start(): Promise<void> {
    const o = this.#o;
    const listen = { ...(o.host ? { host: o.host } : {}), ...(o.families ? { families: o.families } : {}) };
    const status = await this.#plane.addWorkload({
      id: WORKLOAD,
      identity: o.certificates,
      carrier: hboneCarrier({ onCreated: (c) => (this.#carrier = c) }),
      ...(o.target ? { target: o.target } : {}),
      ...(o.addresses ? { addresses: o.addresses } : {}),
      policy: {
        ports: o.hbonePort !== undefined ? { hbone: o.hbonePort } : {},
        ...(o.outboundPort !== undefined
          ? {
              outbound: {
                port: o.outboundPort,
                ...listen,
                meshCidrs: o.meshCidrs ?? [],
                passthroughOutsideMesh: o.passthroughOutsideMesh === true,
                ...(o.outboundAuthorization ? { authorization: o.outboundAuthorization } : {}),
                ...(o.route ? { route: o.route } : {}),
              },
            }
          : {}),
        inbound: {
          // Without an inbound port the inbound policy still carries authorization and delivery.
          ...(o.inboundPort !== undefined ? { port: o.inboundPort } : {}),
          ...listen,
          plaintextSources: o.plaintextSources ?? [],
          ...(o.inboundAuthorization ? { authorization: o.inboundAuthorization } : {}),
          ...(o.fixedDestination ? { fixedDestination: o.fixedDestination } : {}),
        },
      },
    });
    this.#listeners = status.listeners;
  }

  /** Stops accepting, lets open tunnels finish for up to `deadlineMs`, then resets what is left. */
  drain(deadlineMs = this.#plane.timeouts.drain): Promise<void> {
    return this.#plane.close(deadlineMs);
  }

  /** Stops at once. */
  close(): Promise<void> {
    return this.drain(0);
  }
}
