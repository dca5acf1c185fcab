import { InputInvalidError, type IpFamily, type Target } from '@switchyard/core';
import {
  type CarrierFactory,
  type DataPlane,
  type DataPlaneMetrics,
  type Endpoint,
  type ListenerStatus,
  type SidecarPlaneOptions,
  sidecarPlane,
  type Upstream,
  type WorkloadConfig,
  type WorkloadStatus,
} from '@switchyard/dataplane';
import type { AuthorizationPolicy, CertificateStore } from '@switchyard/mesh';
import { type HboneCarrier, hboneCarrier } from './hbone-carrier.js';
import type { HboneClient } from './hbone-client.js';
import type { HboneServer } from './hbone-server.js';
import type { ReverseTunnelListener, ReverseTunnelSettings } from './reverse-tunnel-listener.js';
import type { SniGatewayRouting } from './sni-gateway.js';

/** Options of {@link HboneSidecar}: those every sidecar takes (socket ops, identities, limits, logging), and: */
export interface HboneSidecarOptions extends SidecarPlaneOptions {
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
  /** Addresses this workload owns besides the one a tunnel arrives on. */
  addresses?: string[];
  /** Deliver every tunnel here instead of its `:authority` (benchmarks). */
  fixedDestination?: Endpoint;
  /** Where outbound tunnels go. Default: the destination's address on 15008. */
  route?: (destination: Endpoint) => Endpoint;
  /** Open sockets inside this target's network (a node-level proxy). */
  target?: Target;
  families?: IpFamily[];
  /** Also serve the SNI gateway on `port` (15443), routing as given. */
  sniGateway?: SniGatewayRouting & { port: number };
  /** Also accept reverse tunnels on `port` (15009). */
  reverseTunnel?: ReverseTunnelSettings & { port: number };
  /**
   * Another HBONE carrier from the carrier registry (`hbone-native`) instead of this package's:
   * then `client`, `server`, `reverseTunnels` and `upstream` stay unset, and `sniGateway` and
   * `reverseTunnel` are refused (they run on this package's carrier).
   */
  carrier?: CarrierFactory;
}

const WORKLOAD = 'sidecar';

/**
 * The HBONE sidecar: a one-workload {@link DataPlane} with the hbone carrier (or another HBONE
 * carrier given as `carrier`). Outbound captured
 * TCP becomes a CONNECT stream to the destination's port 15008 over a pooled mTLS connection;
 * inbound, the HBONE server on 15008 authorizes the peer and dials the app. Plain TCP captured
 * inbound is refused unless it comes from an allowed source.
 */
export class HboneSidecar {
  readonly #o: HboneSidecarOptions;
  readonly #plane: DataPlane;
  #carrier: HboneCarrier | undefined;
  #listeners: ListenerStatus[] = [];

  /** @throws InputInvalidError for `sniGateway` or `reverseTunnel` with another `carrier`. */
  constructor(options: HboneSidecarOptions) {
    if (options.carrier && (options.sniGateway || options.reverseTunnel))
      throw new InputInvalidError(
        `the ${options.carrier.name} carrier serves no SNI gateway or reverse tunnels (they run on the hbone carrier); drop them, or run the hbone carrier`,
      );
    this.#o = options;
    this.#plane = sidecarPlane(options, 'hbone');
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

  /** The reverse-tunnel acceptor, with `reverseTunnel`. Available after start. */
  get reverseTunnels(): ReverseTunnelListener | undefined {
    return this.#carrier?.reverseTunnels;
  }

  /** The data plane's dialer (identity pinning included), for a reverse tunnel. Available after start. */
  get upstream(): Upstream | undefined {
    return this.#carrier?.upstream;
  }

  /** True while accepting. */
  get ready(): boolean {
    return this.#plane.ready;
  }

  /** What the admin `/status` shows: its workload's state, SPIFFE ID, listeners and open connections. */
  status(): WorkloadStatus | undefined {
    return this.#plane.workload(WORKLOAD);
  }

  /** What the admin `/config` shows: certificate, trust bundle, listeners, policy, recent denials. */
  config(): WorkloadConfig | undefined {
    return this.#plane.workloadConfig(WORKLOAD);
  }

  /** Where the sidecar listens (role `hbone`, `inbound`, `outbound`, `sni-gateway`, `reverse-tunnel`). */
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
      carrier:
        o.carrier ??
        hboneCarrier({
          onCreated: (c) => (this.#carrier = c),
          ...(o.sniGateway ? { sniGateway: o.sniGateway } : {}),
          ...(o.reverseTunnel ? { reverseTunnel: o.reverseTunnel } : {}),
        }),
      ...(o.target ? { target: o.target } : {}),
      ...(o.addresses ? { addresses: o.addresses } : {}),
      policy: {
        ports: {
          ...(o.hbonePort !== undefined ? { hbone: o.hbonePort } : {}),
          ...(o.sniGateway ? { sniGateway: o.sniGateway.port } : {}),
          ...(o.reverseTunnel ? { reverseTunnel: o.reverseTunnel.port } : {}),
        },
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
