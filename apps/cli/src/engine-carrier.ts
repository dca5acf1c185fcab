import { InputInvalidError, quoteInput, UnsupportedPlatformError } from '@switchyard/core';
import { type BuiltinCarrierName, type CarrierFactory, CarrierRegistry } from '@switchyard/dataplane';

/** The engines `proxy mtls --engine` runs on: JavaScript (every platform) or the native relay engine (Linux). */
export const ENGINES = ['js', 'native'] as const;

/** One of {@link ENGINES}. */
export type Engine = (typeof ENGINES)[number];

/** The carrier each engine names in the data plane's carrier registry (the agent's `carrier`). */
const CARRIER_OF: Readonly<Record<Engine, BuiltinCarrierName>> = { js: 'mtls', native: 'mtls-native' };

/** The CLI's carriers: the data plane's registry, importing carrier packages from here. */
const carriers = new CarrierRegistry({ importModule: (specifier) => import(specifier) });

/**
 * The carrier `--engine` asks for, from the carrier registry: `undefined` for `js` (the sidecar's
 * own mtls carrier), `mtls-native` for `native` — loaded only then (the engine is an optional
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
  const name = CARRIER_OF[engine as Engine];
  const why = await carriers.unavailable(name);
  if (why?.missing)
    throw new UnsupportedPlatformError(
      '--engine native: the native relay engine is not installed beside the CLI; install it with "npm install @switchyard/relay-native" (Linux), or use --engine js',
      { cause: why.cause },
    );
  if (why) throw new UnsupportedPlatformError(`--engine native: ${why.reason}; or use --engine js`);
  return carriers.factory(name);
}
