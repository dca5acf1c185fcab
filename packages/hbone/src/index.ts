/**
 * `@switchyard/hbone` — HBONE: each TCP connection is one HTTP/2 CONNECT stream on a pooled mTLS
 * connection to the peer's port 15008, wire-compatible with Istio ztunnel (ALPN h2, SPIFFE
 * identities, `:authority` = original destination, `forwarded`/`baggage`/`traceparent` headers,
 * 200/400/401/503, 4 MiB stream and 16 MiB connection windows, 100 streams per connection).
 *
 * @example
 * ```ts
 * import { HboneClient, HboneServer } from '@switchyard/hbone';
 *
 * const server = new HboneServer({ socketOps, certificates });     // listens on 15008
 * await server.start();
 * const client = new HboneClient({ socketOps, certificates });
 * const tunnel = await client.connect({ destination: { address: '10.0.0.7', port: 8080 } });
 * tunnel.end('hello');                                              // a Duplex, like a socket
 * ```
 *
 * @module
 */
import { CARRIER_API_VERSION, defineCarrier } from '@switchyard/dataplane/carrier';
import { hboneCarrier } from './hbone-carrier.js';
import { HBONE_PORT } from './settings.js';

export {
  formatAuthority,
  forwardedFor,
  type HboneAuthority,
  parseAuthority,
  parseForwardedFor,
} from './authority.js';
export { readServerName, type ServerNameResult } from './client-hello.js';
export { HboneCarrier, type HboneCarrierOptions, hboneCarrier } from './hbone-carrier.js';
export {
  HboneClient,
  type HboneClientOptions,
  HboneConnectError,
  type TunnelRequest,
} from './hbone-client.js';
export { HboneServer } from './hbone-server.js';
export { HboneSidecar, type HboneSidecarOptions } from './hbone-sidecar.js';
export {
  REVERSE_TUNNEL_PORT,
  ReverseTunnelAcceptor,
  type ReverseTunnelAcceptorOptions,
  ReverseTunnelDialer,
  type ReverseTunnelDialerOptions,
} from './reverse-tunnel.js';
export { ReverseTunnelListener, type ReverseTunnelSettings } from './reverse-tunnel-listener.js';
export { HBONE_LIMITS, HBONE_PORT, HBONE_SETTINGS, HBONE_STATUS } from './settings.js';
export {
  SNI_GATEWAY_PORT,
  type SniGatewayRouting,
  type SniRoute,
  sniGatewayListener,
} from './sni-gateway.js';
export { SniGateway, type SniGatewayOptions } from './sni-gateway-plane.js';
export * from './tunnel-attempts.js';
export { poolKey, TunnelPools } from './tunnel-pools.js';

/** The registry entry of the hbone carrier: it listens on 15008 itself. */
export const carrier = defineCarrier({
  name: 'hbone',
  apiVersion: CARRIER_API_VERSION,
  description: "HBONE (ztunnel's wire): HTTP/2 CONNECT over mTLS to the destination's 15008",
  listens: { hbone: HBONE_PORT },
  create: () => hboneCarrier(),
});

export default carrier;
