import { InputInvalidError, quoteInput, UnsupportedPlatformError } from '@switchyard/core';
import { type BuiltinCarrierName, type CarrierFactory, CarrierRegistry } from '@switchyard/dataplane';
import { resolveDriverModule } from './driver-modules.js';

/** The engines `proxy mtls --engine` runs on: JavaScript (every platform) or the native relay engine (Linux). */
export const ENGINES = ['js', 'native'] as const;

/** One of {@link ENGINES}. */
export type Engine = (typeof ENGINES)[number];

/** The carrier each engine names in the data plane's carrier registry: `--engine` is an alias of `--carrier`. */
export const CARRIER_OF_ENGINE: Readonly<Record<Engine, BuiltinCarrierName>> = {
  js: 'mtls',
  native: 'mtls-native',
};

/** The carrier of `proxy mtls` when neither `--carrier` nor `--engine` names one. */
export const DEFAULT_CARRIER: BuiltinCarrierName = 'mtls';

/**
 * The data plane's carrier registry with every `--carrier-module` loaded (a package name resolved
 * from `cwd`, a package directory or a file, as `--driver-module` takes them).
 *
 * @throws InputInvalidError when a module cannot be found; CarrierLoadError (and the registry's
 *   other errors) when it is not a carrier.
 */
export async function carrierRegistry(modules: readonly string[], cwd: string): Promise<CarrierRegistry> {
  const urls = new Map<string, string>();
  for (const spec of modules)
    urls.set(spec, await resolveDriverModule(spec, cwd, '--carrier-module', 'carrier'));
  const registry = new CarrierRegistry({
    importModule: (specifier) => import(urls.get(specifier) ?? specifier),
  });
  for (const spec of modules) await registry.load(spec);
  return registry;
}

/** The carrier of `proxy hbone` when `--carrier` names none: its own, JavaScript HBONE. */
export const DEFAULT_HBONE_CARRIER: BuiltinCarrierName = 'hbone';

/**
 * The carrier `--carrier` and its alias `--engine` ask for, with the flag to name in messages;
 * `own` when neither is given.
 *
 * @throws InputInvalidError for an engine that does not exist, or both flags naming different carriers.
 */
export function chosenCarrierName(
  o: { carrier?: string; engine?: string },
  own: string = DEFAULT_CARRIER,
): { name: string; flag: string } {
  if (o.engine !== undefined && !(ENGINES as readonly string[]).includes(o.engine))
    throw new InputInvalidError(
      `--engine ${quoteInput(o.engine)}: expected ${ENGINES.map((e) => `"${e}"`).join(' or ')}`,
    );
  const byEngine = o.engine === undefined ? undefined : CARRIER_OF_ENGINE[o.engine as Engine];
  if (o.carrier !== undefined && byEngine !== undefined && o.carrier !== byEngine)
    throw new InputInvalidError(
      `--engine ${o.engine} names the ${byEngine} carrier and --carrier ${quoteInput(o.carrier)} another; give one of them`,
    );
  if (o.carrier !== undefined) return { name: o.carrier, flag: `--carrier ${o.carrier}` };
  if (o.engine !== undefined) return { name: byEngine as string, flag: `--engine ${o.engine}` };
  return { name: own, flag: `--carrier ${own}` };
}

/**
 * The factory for the chosen carrier, from the registry: `undefined` for `own` (the sidecar's
 * own carrier: `mtls` for `proxy mtls`, `hbone` for `proxy hbone`). A carrier is loaded only when
 * chosen (the native engine is an optional peer of the CLI: it ships a C addon a CLI user may not
 * want) and checked to run here before anything listens.
 *
 * @throws CarrierNotFoundError for a name no carrier has (the choices named).
 * @throws UnsupportedPlatformError when the carrier is not installed or cannot run here.
 */
export async function carrierFactory(
  registry: CarrierRegistry,
  choice: { name: string; flag: string },
  own: string = DEFAULT_CARRIER,
): Promise<CarrierFactory | undefined> {
  if (choice.name === own) return undefined;
  const instead = choice.flag.startsWith('--engine') ? '--engine js' : `--carrier ${own}`;
  const why = await registry.unavailable(choice.name);
  if (why?.missing)
    throw new UnsupportedPlatformError(
      registry.capabilities(choice.name).needsEngine
        ? `${choice.flag}: the native relay engine is not installed beside the CLI; install it with "npm install @switchyard/relay-native" (Linux), or use ${instead}`
        : `${choice.flag}: the carrier's package is not installed beside the CLI; install it, or use ${instead}`,
      { cause: why.cause },
    );
  if (why) throw new UnsupportedPlatformError(`${choice.flag}: ${why.reason}; or use ${instead}`);
  return registry.factory(choice.name);
}

/**
 * The carrier `proxy hbone --carrier` names, checked to speak HBONE (it declares the `hbone`
 * listener): `mtls` there would serve another wire on the HBONE port.
 *
 * @throws CarrierNotFoundError for a name no carrier has; InputInvalidError for a carrier that is not HBONE's.
 */
export function hboneCarrierName(
  registry: CarrierRegistry,
  carrier: string | undefined,
): { name: string; flag: string } {
  const choice = chosenCarrierName({ ...(carrier !== undefined ? { carrier } : {}) }, DEFAULT_HBONE_CARRIER);
  if (registry.capabilities(choice.name).listens?.hbone === undefined) {
    const hbone = registry.names().filter((n) => registry.capabilities(n).listens?.hbone !== undefined);
    throw new InputInvalidError(
      `${choice.flag}: "${choice.name}" does not carry HBONE (it opens no HBONE listener); give one of ${hbone.map((n) => `"${n}"`).join(', ')}, or run "switchyard proxy mtls --carrier ${choice.name}"`,
    );
  }
  return choice;
}
