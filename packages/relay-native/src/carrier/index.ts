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
export { nativeEngineUnavailable } from '../load-addon.js';
export { type MtlsNativeCarrierOptions, mtlsNativeCarrier } from './mtls-native-carrier.js';
