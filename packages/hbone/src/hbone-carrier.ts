import type { Duplex } from 'node:stream';
import type {
  Accepted,
  Carrier,
  CarrierContext,
  CarrierFactory,
  CarrierListener,
  Endpoint,
  ServiceRoute,
  Upstream,
} from '@switchyard/dataplane/carrier';
import { reportTlsFloods } from '@switchyard/dataplane/carrier';
import { parseSpiffeId } from '@switchyard/mesh';
import { HboneClient } from './hbone-client.js';
import { HboneServer } from './hbone-server.js';
import { ReverseTunnelListener, type ReverseTunnelSettings } from './reverse-tunnel-listener.js';
import { HBONE_PORT } from './settings.js';
import { type SniGatewayRouting, sniGatewayListener } from './sni-gateway.js';
import {
  type TunnelAttempt,
  type TunnelFailure,
  tunnelAttempts,
  tunnelFailed,
  tunnelInfo,
} from './tunnel-attempts.js';

const isIdentityFailure = (e: TunnelFailure) => e.code === 'SWY_ERR_UPSTREAM_IDENTITY';

/** Options of {@link hboneCarrier}. */
export interface HboneCarrierOptions {
  /** Called with each workload's carrier once created (to reach its client or server). */
  onCreated?: (carrier: HboneCarrier) => void;
  /** Serve the SNI gateway where the policy names its port (`policy.ports.sniGateway`). */
  sniGateway?: SniGatewayRouting;
  /** Accept reverse tunnels where the policy names their port (`policy.ports.reverseTunnel`). */
  reverseTunnel?: ReverseTunnelSettings;
}

/**
 * The HBONE carrier (ztunnel's wire): a captured outbound connection becomes an HTTP/2 CONNECT
 * stream on a pooled mTLS connection to the destination's port 15008, the server's identity
 * pinned; peers reach this workload on its own 15008 (`policy.ports.hbone`). It has no handshake
 * for captured inbound: plain TCP there is refused unless the policy allows it, peers must use HBONE.
 */
export function hboneCarrier(options: HboneCarrierOptions = {}): CarrierFactory {
  return {
    name: 'hbone',
    create(context) {
      const carrier = new HboneCarrier(context, options);
      options.onCreated?.(carrier);
      return carrier;
    },
  };
}

/** One workload's HBONE carrier: its pooled client and its 15008 server. */
export class HboneCarrier implements Carrier {
  readonly client: HboneClient;
  readonly server: HboneServer;
  readonly listeners: readonly CarrierListener[];
  /** The data plane's dialer (pinning, timeouts), for reverse tunnels and gateways beside the carrier. */
  readonly upstream: Upstream;
  readonly #c: CarrierContext;
  /** Service endpoints are reached at `podIP:15008`, `:authority` `podIP:targetPort`, the pod's identity pinned. */
  readonly routesServices = true;

  /** The reverse-tunnel acceptor, when the policy names its port and the options ask for it. */
  readonly reverseTunnels: ReverseTunnelListener | undefined;

  constructor(context: CarrierContext, options: HboneCarrierOptions = {}) {
    this.#c = context;
    this.upstream = context.upstream;
    const { workload } = context;
    const tlsFlood = reportTlsFloods(context, 'outbound');
    this.client = new HboneClient({
      upstream: context.upstream,
      certificates: workload.identity,
      logger: context.logger,
      // A server we dial is never penalized at accept (it is not a source): counted, and cut.
      onTlsFlood: (kind, detail) => tlsFlood(kind, detail, undefined),
      onControlFrameFlood: () =>
        context.metrics.streamResets.inc({
          workload: context.labels.workload,
          reason: 'control-frame-flood',
          direction: 'outbound',
        }),
      ...(workload.target ? { target: workload.target } : {}),
      ...(workload.policy.outbound?.authorization
        ? { authorization: workload.policy.outbound.authorization }
        : {}),
    });
    this.server = new HboneServer(context);
    const ports = workload.policy.ports;
    const port = ports?.hbone ?? (ports ? undefined : HBONE_PORT);
    const sniPort = ports?.sniGateway;
    const reversePort = ports?.reverseTunnel;
    this.reverseTunnels =
      reversePort !== undefined && options.reverseTunnel
        ? new ReverseTunnelListener(context, this.server, reversePort, options.reverseTunnel)
        : undefined;
    this.listeners = [
      ...(port === undefined ? [] : [this.#hboneListener(port)]),
      ...(sniPort !== undefined && options.sniGateway
        ? [sniGatewayListener(context, this.client, sniPort, options.sniGateway)]
        : []),
      ...(this.reverseTunnels ? [this.reverseTunnels.listener] : []),
    ];
  }

  /** Peers' HBONE on 15008: the server's TLS, then HTTP/2 (a refused peer is answered 401 per stream). */
  #hboneListener(port: number): CarrierListener {
    const inbound = this.#c.workload.policy.inbound;
    return {
      name: 'hbone',
      port,
      handshake: (c) => this.server.handshake(c),
      answersDenied: true,
      // HTTP/2 reads the socket in native code; liveness is PING's job (keepalive.ts).
      idle: false,
      ...(inbound?.host ? { host: inbound.host } : {}),
      ...(inbound?.families ? { families: inbound.families } : {}),
      accept: (c, session, authorization) => this.server.accept(c, session, authorization),
    };
  }

  async outbound(c: Accepted, destination: Endpoint, route?: ServiceRoute): Promise<void> {
    const info = tunnelInfo(c, destination, route);
    const attempts = tunnelAttempts(destination, route, this.#c.workload.policy.outbound?.route);
    for (const [i, attempt] of attempts.entries()) {
      // Held from the first attempt: an endpoint being tried (or timing out) is not idle.
      const release = attempt.endpoint ? route?.hold(attempt.endpoint) : undefined;
      let tunnel: Duplex;
      try {
        tunnel = await this.#open(c, attempt);
      } catch (error) {
        release?.();
        const e = error as TunnelFailure;
        if (route && attempt.endpoint) route.failed(attempt.endpoint);
        // A refusal or a timeout is tried once on another endpoint (while the client is still
        // there); a wrong identity never is.
        const retry = !isIdentityFailure(e) && i < attempts.length - 1 && !c.socket.destroyed;
        if (route && attempt.endpoint && retry) {
          route.retried(attempt.endpoint, e.message);
          continue;
        }
        tunnelFailed(this.#c, c, e, info);
        return;
      }
      try {
        if (c.socket.destroyed) return void tunnel.destroy();
        const peer = this.client.peerOf(tunnel);
        await this.#c.relay('outbound', c.socket, tunnel, peer ? { ...info, peer } : info);
      } finally {
        release?.();
      }
      return;
    }
  }

  #open(c: Accepted, attempt: TunnelAttempt): Promise<Duplex> {
    const self = parseSpiffeId(this.#c.workload.identity.current.spiffeId);
    return this.client.connect({
      destination: attempt.authority,
      peer: attempt.peer,
      client: c.client,
      ...(attempt.endpoint ? { identities: attempt.endpoint.identities } : {}),
      ...(self
        ? {
            baggage: {
              'k8s.namespace.name': self.namespace,
              'k8s.serviceaccount.name': self.serviceAccount,
            },
          }
        : {}),
    });
  }

  drain(): void {
    this.server.drain();
  }

  async close(): Promise<void> {
    this.reverseTunnels?.close();
    this.client.close();
    await this.server.close();
  }
}
