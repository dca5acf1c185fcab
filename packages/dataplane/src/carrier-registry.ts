import {
  CarrierDuplicateError,
  CarrierIncompatibleError,
  CarrierLoadError,
  CarrierNotFoundError,
  DEFAULT_PORTS,
  UnsupportedPlatformError,
} from '@switchyard/core';
import type { CarrierFactory } from './carrier.js';
import {
  CARRIER_API_VERSION,
  type CarrierCapabilities,
  type CarrierDefinition,
} from './carrier-definition.js';

/** A built-in carrier: the module it comes from (imported on first use) and what it declares. */
export interface BuiltinCarrier extends CarrierCapabilities {
  specifier: string;
  description: string;
}

/**
 * The built-in carriers, by name: module specifiers imported on first use, so that choosing
 * `mtls` never loads the native engine. Their capabilities are repeated here so a plan can ask
 * before the module is loaded; a test holds each to what the module's definition declares.
 */
export const BUILTIN_CARRIERS = {
  mtls: {
    specifier: '@switchyard/mtls-proxy',
    description: 'mTLS (TLS 1.3) to the destination, where its inbound capture takes it',
  },
  'mtls-native': {
    specifier: '@switchyard/relay-native/carrier',
    description: 'the mtls carrier with its handshakes and bytes on the native relay engine (Linux)',
    needsEngine: true,
  },
  hbone: {
    specifier: '@switchyard/hbone',
    description: "HBONE (ztunnel's wire): HTTP/2 CONNECT over mTLS to the destination's 15008",
    listens: { hbone: DEFAULT_PORTS.hbone },
  },
  'hbone-native': {
    specifier: '@switchyard/relay-native/hbone',
    description: 'HBONE with its TLS, HTTP/2 and bytes on the native relay engine (Linux)',
    needsEngine: true,
    listens: { hbone: DEFAULT_PORTS.hbone },
  },
} as const satisfies Record<string, BuiltinCarrier>;

/** The name of a built-in carrier. */
export type BuiltinCarrierName = keyof typeof BUILTIN_CARRIERS;

/** Imports a module by specifier; inject one to resolve from the caller's location. */
export type CarrierImporter = (specifier: string) => Promise<unknown>;

/** Options of {@link CarrierRegistry}. */
export interface CarrierRegistryOptions {
  /** How modules are imported. Default: a dynamic `import()` from the data plane's location. */
  importModule?: CarrierImporter;
}

/** Why a carrier cannot run here: its module is missing (`cause` says why), or it says why not. */
export type CarrierUnavailable = { missing: true; cause: unknown } | { missing: false; reason: string };

const NAME = /^[a-z][a-z0-9-]{0,63}$/;

/**
 * The carriers' plugin door, as drivers have theirs: carriers by name, built-in ones loaded
 * lazily, third-party ones registered or loaded from a module (each proven by the carrier
 * compliance suite of `@switchyard/dataplane/testing`). The agent and the CLI pick carriers here.
 *
 * @example
 * ```ts
 * const carriers = new CarrierRegistry({ importModule: (s) => import(s) });
 * const factory = await carriers.factory('hbone');
 * await plane.addWorkload({ id: 'web/api', identity, carrier: factory, policy });
 * ```
 */
export class CarrierRegistry {
  readonly #import: CarrierImporter;
  readonly #definitions = new Map<string, CarrierDefinition>();
  /** One factory per carrier that needs the engine: its workloads share one engine. */
  readonly #shared = new Map<string, CarrierFactory>();

  constructor(options: CarrierRegistryOptions = {}) {
    this.#import = options.importModule ?? ((specifier) => import(specifier));
  }

  /** Every carrier name known, built-in (loaded or not) and registered, sorted. */
  names(): string[] {
    return [...new Set([...Object.keys(BUILTIN_CARRIERS), ...this.#definitions.keys()])].sort();
  }

  /**
   * What the named carrier declares (its own listeners and their default ports, whether it needs
   * the engine), without loading a built-in carrier's module.
   *
   * @throws CarrierNotFoundError when no carrier has that name.
   */
  capabilities(name: string): CarrierCapabilities {
    const known = this.#definitions.get(name) ?? builtin(name);
    if (!known) throw this.#notFound(name);
    return {
      ...(known.listens ? { listens: known.listens } : {}),
      ...(known.needsEngine ? { needsEngine: true } : {}),
    };
  }

  /**
   * Registers a definition (a third-party carrier). The very same definition again is a no-op.
   *
   * @throws CarrierDuplicateError, CarrierIncompatibleError, CarrierLoadError (not a definition).
   */
  register(definition: unknown): CarrierDefinition {
    return this.#add(definition, false);
  }

  /**
   * Imports a third-party carrier module (a package name, or a URL the caller resolved) and
   * registers the definition it exports (as its default export, or as `carrier`), as a
   * third-party driver is loaded. Loading the same module again is a no-op.
   *
   * @throws CarrierLoadError when the module does not import or exports no definition; the errors of {@link CarrierRegistry.register}.
   */
  async load(specifier: string): Promise<CarrierDefinition> {
    let mod: unknown;
    try {
      mod = await this.#import(specifier);
    } catch (cause) {
      throw new CarrierLoadError(
        `the carrier module "${specifier}" could not be loaded: ${(cause as Error).message}`,
        { cause },
      );
    }
    const found = definitionIn(mod);
    if (!found)
      throw new CarrierLoadError(
        `"${specifier}" exports no carrier definition; export one made with defineCarrier() as the default export or as "carrier"`,
      );
    return this.register(found);
  }

  /**
   * The named carrier's definition, importing a built-in carrier's module on first use.
   *
   * @throws CarrierNotFoundError when no carrier has that name; CarrierLoadError when its module is missing or broken.
   */
  async definition(name: string): Promise<CarrierDefinition> {
    const known = this.#definitions.get(name);
    if (known) return known;
    const b = builtin(name);
    if (!b) throw this.#notFound(name);
    let mod: unknown;
    try {
      mod = await this.#import(b.specifier);
    } catch (cause) {
      throw new CarrierLoadError(
        `the carrier "${name}" could not be loaded from "${b.specifier}": ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
    const found = definitionIn(mod);
    if (found?.name !== name)
      throw new CarrierLoadError(`"${b.specifier}" does not export the "${name}" carrier; reinstall it`);
    return this.#add(found, true);
  }

  /** Why the named carrier cannot run here, or undefined when it can (for each app to word). */
  async unavailable(name: string): Promise<CarrierUnavailable | undefined> {
    let definition: CarrierDefinition;
    try {
      definition = await this.definition(name);
    } catch (cause) {
      if ((cause as { code?: string }).code === 'SWY_ERR_CARRIER_NOT_FOUND') throw cause;
      return { missing: true, cause: (cause as { cause?: unknown }).cause ?? cause };
    }
    const reason = definition.unavailable?.();
    return reason ? { missing: false, reason } : undefined;
  }

  /**
   * A factory for the named carrier: a fresh one per call, except for a carrier that needs the
   * engine, whose one factory every workload shares (one engine, started with the first workload
   * and stopped with the last).
   *
   * @throws UnsupportedPlatformError when the carrier cannot run here (errors of {@link CarrierRegistry.definition} too).
   */
  async factory(name: string, options?: Record<string, unknown>): Promise<CarrierFactory> {
    const shared = this.#shared.get(name);
    if (shared) return shared;
    const definition = await this.definition(name);
    const why = definition.unavailable?.();
    if (why) throw new UnsupportedPlatformError(`carrier ${name} cannot run here: ${why}`);
    const factory = definition.create(options);
    if (definition.needsEngine) this.#shared.set(name, factory);
    return factory;
  }

  #notFound(name: string): CarrierNotFoundError {
    return new CarrierNotFoundError(
      `no carrier named "${name}"; known carriers are ${this.names()
        .map((n) => `"${n}"`)
        .join(', ')}`,
    );
  }

  #add(candidate: unknown, builtinLoad: boolean): CarrierDefinition {
    if (!isDefinition(candidate))
      throw new CarrierLoadError(
        'not a carrier definition; make one with defineCarrier({ name, apiVersion, description, create })',
      );
    const def = candidate;
    if (!NAME.test(def.name))
      throw new CarrierLoadError(
        `carrier name "${def.name}" is not usable; use lowercase letters, digits and "-", starting with a letter`,
      );
    if (def.apiVersion !== CARRIER_API_VERSION)
      throw new CarrierIncompatibleError(
        `carrier "${def.name}" was written for carrier API v${def.apiVersion}, but this @switchyard/dataplane provides v${CARRIER_API_VERSION}; install a version of the carrier made for this data plane`,
      );
    const existing = this.#definitions.get(def.name);
    if (existing === def) return def;
    if (existing || (!builtinLoad && builtin(def.name)))
      throw new CarrierDuplicateError(
        `a carrier named "${def.name}" is already registered${builtin(def.name) ? ' (built in)' : ''}; rename the new carrier or register only one of them`,
      );
    this.#definitions.set(def.name, def);
    return def;
  }
}

function builtin(name: string): BuiltinCarrier | undefined {
  return Object.hasOwn(BUILTIN_CARRIERS, name) ? BUILTIN_CARRIERS[name as BuiltinCarrierName] : undefined;
}

function isDefinition(value: unknown): value is CarrierDefinition {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<CarrierDefinition>;
  return typeof v.name === 'string' && typeof v.apiVersion === 'number' && typeof v.create === 'function';
}

function definitionIn(mod: unknown): CarrierDefinition | undefined {
  if (typeof mod !== 'object' || mod === null) return undefined;
  const m = mod as { default?: unknown; carrier?: unknown };
  return [m.default, m.carrier].find(isDefinition);
}
