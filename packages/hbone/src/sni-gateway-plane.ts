import { GatewayPlane, type GatewayPlaneOptions } from './gateway-plane.js';
import { SNI_GATEWAY_PORT, type SniGatewayRouting } from './sni-gateway.js';

/** Options of {@link SniGateway}: a one-workload data plane's, its identity, and the routing. */
export interface SniGatewayOptions extends GatewayPlaneOptions, SniGatewayRouting {
  /** Default {@link SNI_GATEWAY_PORT}. */
  port?: number;
}

/**
 * An SNI gateway on its own: a one-workload data plane whose HBONE carrier serves only the
 * gateway listener (its limits, drain, rotation and metrics are the data plane's). A sidecar
 * that is also a gateway passes `sniGateway` to `HboneSidecar` instead.
 */
export class SniGateway extends GatewayPlane {
  constructor(options: SniGatewayOptions) {
    const { port, route, onRefused, helloTimeoutMs, ...plane } = options;
    super(plane, {
      sniGateway: {
        port: port ?? SNI_GATEWAY_PORT,
        route,
        ...(onRefused ? { onRefused } : {}),
        ...(helloTimeoutMs !== undefined ? { helloTimeoutMs } : {}),
      },
    });
  }

  /** The port it listens on (0 before start). */
  get port(): number {
    return this.sidecar.port('sni-gateway');
  }
}
