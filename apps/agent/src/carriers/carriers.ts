import { UnsupportedPlatformError } from '@switchyard/core';
import { type CarrierCapabilities, type CarrierFactory, CarrierRegistry } from '@switchyard/dataplane';
import { resolveCarrierModule } from './resolve-carrier-module.js';

/** Where each loaded carrier module was found (specifier → URL), for the registry's importer. */
const resolved = new Map<string, string>();

/** The carriers of the agent: the data plane's registry, importing carrier packages from here. */
const carriers = new CarrierRegistry({
  importModule: (specifier) => import(resolved.get(specifier) ?? specifier),
});

/** Every carrier a config or a workload may name: the built-in ones and those loaded, sorted. */
export function carrierNames(): string[] {
  return carriers.names();
}

/**
 * Loads third-party carrier modules (the config's `carrierModules`) into the registry, as
 * third-party drivers are loaded: a package name resolved from `configDir` (then from the agent's
 * own location), or a path relative to it. Returns each module's problem, by its index.
 */
export async function loadCarrierModules(
  modules: readonly string[],
  configDir: string,
): Promise<{ index: number; message: string }[]> {
  const problems: { index: number; message: string }[] = [];
  for (const [index, spec] of modules.entries()) {
    try {
      resolved.set(spec, resolveCarrierModule(spec, configDir));
      await carriers.load(spec);
    } catch (error) {
      problems.push({ index, message: (error as Error).message });
    }
  }
  return problems;
}

/** What the named carrier declares: the listeners it opens itself (their default ports), whether it needs the engine. */
export function carrierCapabilities(name: string): CarrierCapabilities {
  return carriers.capabilities(name);
}

/**
 * Why the carrier cannot run on this host, or `undefined` when it can: a carrier that needs the
 * native engine loads its addon (without starting it); the JavaScript carriers run everywhere.
 */
export async function carrierUnavailable(name: string): Promise<string | undefined> {
  const why = await carriers.unavailable(name);
  if (!why) return undefined;
  return why.missing ? notInstalled(name).message : `"${name}" cannot run here: ${why.reason}; or use "mtls"`;
}

/**
 * Why the carrier cannot run on this host, in plain words without advice (the agent falls back on
 * its own), or `undefined` when it can.
 */
export async function carrierUnavailableReason(name: string): Promise<string | undefined> {
  const why = await carriers.unavailable(name);
  if (!why) return undefined;
  if (!why.missing) return why.reason;
  const cause = why.cause instanceof Error ? `: ${why.cause.message.split('\n')[0]}` : '';
  return `its package is not installed beside the agent${cause}`;
}

/**
 * A carrier factory by name, from the registry: a fresh one for the JavaScript carriers; for a
 * carrier that needs the engine, the one every workload shares, so a node runs one engine whatever
 * its number of workloads (it starts with the first workload and stops with the last).
 *
 * @throws UnsupportedPlatformError when the carrier cannot run here.
 */
export async function createCarrier(name: string): Promise<CarrierFactory> {
  const why = await carriers.unavailable(name);
  if (why?.missing) throw notInstalled(name, why.cause);
  if (why)
    throw new UnsupportedPlatformError(`carrier ${name} cannot run here: ${why.reason}; or use "mtls"`);
  return carriers.factory(name);
}

function notInstalled(name: string, cause?: unknown): UnsupportedPlatformError {
  return new UnsupportedPlatformError(
    `carrier ${name} needs the native relay engine (@switchyard/relay-native, Linux), which is not installed beside the agent; use carrier "mtls"`,
    cause === undefined ? {} : { cause },
  );
}
