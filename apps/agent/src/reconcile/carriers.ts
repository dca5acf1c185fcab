import { UnsupportedPlatformError } from '@switchyard/core';
import type { CarrierFactory } from '@switchyard/dataplane';
import { hboneCarrier } from '@switchyard/hbone';
import { mtlsCarrier } from '@switchyard/mtls-proxy';
import type { CarrierName } from '../config/agent-config.js';

/** Every carrier a config or a workload may name. */
export const CARRIER_NAMES: readonly CarrierName[] = ['hbone', 'mtls', 'mtls-native'];

/** The native engine's carrier module, imported on first use only (Linux, an optional dependency). */
async function nativeModule(): Promise<typeof import('@switchyard/relay-native/carrier')> {
  try {
    return await import('@switchyard/relay-native/carrier');
  } catch (cause) {
    throw new UnsupportedPlatformError(
      'carrier mtls-native needs the native relay engine (@switchyard/relay-native, Linux), which is not installed beside the agent; use carrier "mtls"',
      { cause },
    );
  }
}

/**
 * Why the carrier cannot run on this host, or `undefined` when it can: `mtls-native` loads the
 * native engine's addon (without starting it); the JavaScript carriers run everywhere.
 */
export async function carrierUnavailable(name: CarrierName): Promise<string | undefined> {
  if (name !== 'mtls-native') return undefined;
  try {
    const why = (await nativeModule()).nativeEngineUnavailable();
    return why && `"mtls-native" cannot run here: ${why}; or use "mtls"`;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The one `mtls-native` factory of this process: its workloads share one engine (threads = cores). */
let nativeFactory: CarrierFactory | undefined;

/**
 * A carrier factory by name: a fresh one for the JavaScript carriers; for `mtls-native` the one
 * every workload shares, so a node runs one engine whatever its number of workloads (it starts
 * with the first workload and stops with the last). `mtls-native` checks servers with the data
 * plane's resolver and fallback, as the JavaScript carriers do.
 *
 * @throws UnsupportedPlatformError when `mtls-native` cannot run here.
 */
export async function createCarrier(name: CarrierName): Promise<CarrierFactory> {
  if (name === 'mtls') return mtlsCarrier();
  if (name === 'hbone') return hboneCarrier();
  if (nativeFactory) return nativeFactory;
  const native = await nativeModule();
  const why = native.nativeEngineUnavailable();
  if (why) throw new UnsupportedPlatformError(`carrier mtls-native cannot run here: ${why}; or use "mtls"`);
  nativeFactory ??= native.mtlsNativeCarrier();
  return nativeFactory;
}
