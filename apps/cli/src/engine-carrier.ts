import { InputInvalidError, quoteInput, UnsupportedPlatformError } from '@switchyard/core';
import type { CarrierFactory } from '@switchyard/dataplane';

/** The engines `proxy mtls --engine` runs on: JavaScript (every platform) or the native relay engine (Linux). */
export const ENGINES = ['js', 'native'] as const;

/** One of {@link ENGINES}. */
export type Engine = (typeof ENGINES)[number];

/**
 * The carrier `--engine` asks for: `undefined` for `js` (the sidecar's own mtls carrier), the
 * native engine's `mtls-native` carrier for `native` — loaded only then (the engine is an optional
 * peer of the CLI: it builds a C addon a CLI user may not want), and checked to run here before
 * anything listens.
 *
 * @throws InputInvalidError for an engine that does not exist.
 * @throws UnsupportedPlatformError when the native engine is not installed or cannot load here.
 */
export async function engineCarrier(engine: string): Promise<CarrierFactory | undefined> {
  if (!(ENGINES as readonly string[]).includes(engine))
    throw new InputInvalidError(
      `--engine ${quoteInput(engine)}: expected ${ENGINES.map((e) => `"${e}"`).join(' or ')}`,
    );
  if (engine === 'js') return undefined;
  let native: typeof import('@switchyard/relay-native/carrier');
  try {
    native = await import('@switchyard/relay-native/carrier');
  } catch (cause) {
    throw new UnsupportedPlatformError(
      '--engine native: the native relay engine is not installed beside the CLI; install it with "npm install @switchyard/relay-native" (Linux), or use --engine js',
      { cause },
    );
  }
  const why = native.nativeEngineUnavailable();
  if (why) throw new UnsupportedPlatformError(`--engine native: ${why}; or use --engine js`);
  return native.mtlsNativeCarrier();
}
