/**
 * `@switchyard/relay-native/carrier`: the data plane's `mtls-native` carrier, the mtls carrier
 * with its handshakes and bytes on the native engine.
 *
 * @example
 * ```ts
 * import { mtlsNativeCarrier } from '@switchyard/relay-native/carrier';
 * await plane.addWorkload({ id: 'web/api', identity, carrier: mtlsNativeCarrier(), policy });
 * ```
 *
 * @module
 */
import { CARRIER_API_VERSION, defineCarrier } from '@switchyard/dataplane/carrier';
import { nativeEngineUnavailable } from '../load-addon.js';
import { type MtlsNativeCarrierOptions, mtlsNativeCarrier } from './mtls-native-carrier.js';

export { nativeEngineUnavailable } from '../load-addon.js';
export { type MtlsNativeCarrierOptions, mtlsNativeCarrier } from './mtls-native-carrier.js';

/** The registry entry of the mtls-native carrier: it needs the native engine. */
export const carrier = defineCarrier<MtlsNativeCarrierOptions>({
  name: 'mtls-native',
  apiVersion: CARRIER_API_VERSION,
  description: 'the mtls carrier with its handshakes and bytes on the native relay engine (Linux)',
  needsEngine: true,
  unavailable: () => nativeEngineUnavailable(),
  create: (options) => mtlsNativeCarrier(options),
});

export default carrier;
