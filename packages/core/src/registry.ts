import type { RedirectionDriver } from './driver.js';
import type { DriverDefinition } from './driver-definition.js';
import {
  DriverDuplicateError,
  DriverIncompatibleError,
  DriverLoadError,
  DriverNotFoundError,
} from './errors.js';
import { DRIVER_API_VERSION } from './version.js';

/**
 * Built-in drivers, by name, as module specifiers imported on first use, so importing core
 * (or the CLI) never loads a driver it does not use.
 */
export const BUILTIN_DRIVERS: Readonly<Record<string, string>> = {
  memory: '@switchyard/core/memory',
  tproxy: '@switchyard/driver-tproxy',
  hns: '@switchyard/driver-hns',
};

/** Imports a module by specifier. Inject one to resolve from the caller's location. */
export type ModuleImporter = (specifier: string) => Promise<unknown>;

/** Options for {@link DriverRegistry}. */
export interface DriverRegistryOptions {
  /** Name → module specifier of the built-in drivers. Default {@link BUILTIN_DRIVERS}. */
  builtins?: Readonly<Record<string, string>>;
  /** How modules are imported. Default: a dynamic `import()` from this package. */
  importModule?: ModuleImporter;
}

/** Where a registered driver came from, for `switchyard drivers`. */
export interface DriverSource {
  name: string;
  /** `builtin` for the built-in map, `module` for a loaded package or file, `registered` for `register()`. */
  origin: 'builtin' | 'module' | 'registered';
  /** The module specifier it was loaded from, if any. */
  specifier?: string;
}

const NAME = /^[a-z][a-z0-9-]{0,63}$/;

/**
 * The plugin door: drivers by name, built-in ones loaded lazily, third-party ones loaded from a
 * package name or path. Refuses duplicate names and drivers written for another driver API.
 *
 * @example
 * ```ts
 * const registry = new DriverRegistry();
 * await registry.load('switchyard-driver-acme');
 * const driver = await registry.create('acme', { endpoint: '…' });
 * ```
 */
export class DriverRegistry {
  readonly #builtins: Readonly<Record<string, string>>;
  readonly #import: ModuleImporter;
  readonly #definitions = new Map<string, DriverDefinition>();
  readonly #sources = new Map<string, DriverSource>();

  constructor(options: DriverRegistryOptions = {}) {
    this.#builtins = options.builtins ?? BUILTIN_DRIVERS;
    this.#import = options.importModule ?? importFromCore;
  }

  /**
   * Registers a definition. Registering the very same definition object again is a no-op
   * (a module imported twice); another driver with a taken name is refused.
   *
   * @throws DriverDuplicateError when the name is taken (also by a built-in driver).
   * @throws DriverIncompatibleError when `apiVersion` is not this core's {@link DRIVER_API_VERSION}.
   * @throws DriverLoadError when `definition` is not a driver definition.
   */
  register(definition: unknown, specifier?: string): DriverDefinition {
    return this.#add(
      definition,
      specifier === undefined ? { origin: 'registered' } : { origin: 'module', specifier },
    );
  }

  /**
   * Imports a driver package (by package name, or by file URL/path already resolved by the caller)
   * and registers every driver definition it exports: its default export, a `driver` export, or a
   * `drivers` array. Returns the definitions registered.
   *
   * @throws DriverLoadError when the module cannot be imported or exports no definition.
   */
  async load(specifier: string): Promise<DriverDefinition[]> {
    const mod = await this.#importOrExplain(specifier, `the driver module "${specifier}"`);
    const found = definitionsIn(mod);
    if (found.length === 0) {
      throw new DriverLoadError(
        `"${specifier}" exports no driver definition; export one as default (or as "driver", or a "drivers" list) made with defineDriver({ name, apiVersion, description, create })`,
      );
    }
    return found.map((d) => this.#add(d, { origin: 'module', specifier }));
  }

  /** Every driver name known: built-in ones (loaded or not) and registered ones, sorted. */
  names(): string[] {
    return [...new Set([...Object.keys(this.#builtins), ...this.#definitions.keys()])].sort();
  }

  /** Where the named driver comes from, or undefined if unknown. */
  source(name: string): DriverSource | undefined {
    const known = this.#sources.get(name);
    if (known) return known;
    const specifier = this.#builtins[name];
    return specifier === undefined ? undefined : { name, origin: 'builtin', specifier };
  }

  /**
   * The named driver's definition, importing a built-in driver's module on first use.
   *
   * @throws DriverNotFoundError when no driver has that name.
   * @throws DriverLoadError when a built-in driver's package is missing or broken.
   */
  async definition(name: string): Promise<DriverDefinition> {
    const registered = this.#definitions.get(name);
    if (registered) return registered;
    const specifier = this.#builtins[name];
    if (specifier === undefined) {
      throw new DriverNotFoundError(
        `no driver named "${name}"; known drivers are ${this.names()
          .map((n) => `"${n}"`)
          .join(', ')} (load a third-party driver with --driver-module PACKAGE)`,
      );
    }
    const mod = await this.#importOrExplain(specifier, `the built-in driver "${name}"`);
    const definition = definitionsIn(mod).find((d) => d.name === name);
    if (!definition)
      throw new DriverLoadError(`"${specifier}" does not export the "${name}" driver; reinstall it`);
    return this.#add(definition, { origin: 'builtin', specifier }, true);
  }

  /** Makes a driver by name with the given options. Errors as in {@link DriverRegistry.definition}. */
  async create(name: string, options?: Record<string, unknown>): Promise<RedirectionDriver> {
    const definition = await this.definition(name);
    return definition.create(options);
  }

  async #importOrExplain(specifier: string, what: string): Promise<unknown> {
    try {
      return await this.#import(specifier);
    } catch (cause) {
      const missing = (cause as { code?: string }).code === 'ERR_MODULE_NOT_FOUND';
      throw new DriverLoadError(
        missing
          ? `${what} could not be found; install it (e.g. "pnpm add ${packageOf(specifier)}") or check the path`
          : `${what} failed to load: ${(cause as Error).message ?? String(cause)}`,
        { cause },
      );
    }
  }

  #add(candidate: unknown, source: Omit<DriverSource, 'name'>, builtinLoad = false): DriverDefinition {
    const where = source.specifier ? ` (from "${source.specifier}")` : '';
    if (!isDefinition(candidate)) {
      throw new DriverLoadError(
        `not a driver definition${where}; make one with defineDriver({ name, apiVersion, description, create })`,
      );
    }
    const def = candidate;
    if (!NAME.test(def.name)) {
      throw new DriverLoadError(
        `driver name "${def.name}"${where} is not usable; use lowercase letters, digits and "-", starting with a letter`,
      );
    }
    if (def.apiVersion !== DRIVER_API_VERSION) {
      throw new DriverIncompatibleError(
        `driver "${def.name}"${where} was written for driver API v${def.apiVersion}, but this @switchyard/core provides v${DRIVER_API_VERSION}; install a version of the driver made for this core`,
      );
    }
    const existing = this.#definitions.get(def.name);
    if (existing === def) return def;
    if (existing || (!builtinLoad && this.#builtins[def.name] !== undefined)) {
      const taken = this.source(def.name);
      throw new DriverDuplicateError(
        `a driver named "${def.name}" is already registered${taken?.specifier ? ` from "${taken.specifier}"` : ''}${taken?.origin === 'builtin' ? ' (built in)' : ''}; rename the new driver${where} or load only one of them`,
      );
    }
    this.#definitions.set(def.name, def);
    this.#sources.set(def.name, { name: def.name, ...source });
    return def;
  }
}

// Core's own drivers are imported relatively: a package importing itself by name is not
// resolved by every loader (bundlers, test runners), while a relative import always is.
function importFromCore(specifier: string): Promise<unknown> {
  return specifier === '@switchyard/core/memory' ? import('./memory/index.js') : import(specifier);
}

function isDefinition(value: unknown): value is DriverDefinition {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<DriverDefinition>;
  return typeof v.name === 'string' && typeof v.apiVersion === 'number' && typeof v.create === 'function';
}

function definitionsIn(mod: unknown): DriverDefinition[] {
  if (typeof mod !== 'object' || mod === null) return [];
  const m = mod as { default?: unknown; driver?: unknown; drivers?: unknown };
  const candidates = [m.default, m.driver, ...(Array.isArray(m.drivers) ? m.drivers : [])];
  const out: DriverDefinition[] = [];
  for (const c of candidates) if (isDefinition(c) && !out.includes(c)) out.push(c);
  return out;
}

function packageOf(specifier: string): string {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('file:'))
    return specifier;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}
