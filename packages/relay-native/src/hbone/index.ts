/**
 * `@switchyard/relay-native/hbone`: the data plane's `hbone-native` carrier, HBONE (ztunnel's
 * wire) with its TLS, HTTP/2 framing and tunnels' bytes on the native engine.
 *
 * @example
 * ```ts
 * import { hboneNativeCarrier } from '@switchyard/relay-native/hbone';
 * await plane.addWorkload({ id: 'web/api', identity, carrier: hboneNativeCarrier(), policy });
 * ```
 *
 * @module
 */
import { CARRIER_API_VERSION, defineCarrier } from '@switchyard/dataplane/carrier';
import { HBONE_PORT } from '@switchyard/hbone';
import { nativeEngineUnavailable } from '../load-addon.js';
import { type HboneNativeCarrierOptions, hboneNativeCarrier } from './hbone-native-carrier.js';

export { nativeEngineUnavailable } from '../load-addon.js';
export { type HboneNativeCarrierOptions, hboneNativeCarrier } from './hbone-native-carrier.js';

/** The registry entry of the hbone-native carrier: it needs the native engine. */
export const carrier = defineCarrier<HboneNativeCarrierOptions>({
  name: 'hbone-native',
  apiVersion: CARRIER_API_VERSION,
  description: 'HBONE with its TLS, HTTP/2 and bytes on the native relay engine (Linux)',
  needsEngine: true,
  listens: { hbone: HBONE_PORT },
  unavailable: () => nativeEngineUnavailable(),
  create: (options) => hboneNativeCarrier(options),
});

export default carrier;
