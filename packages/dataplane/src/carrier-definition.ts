import type { CarrierFactory } from './carrier.js';

/**
 * The carrier API major version this data plane provides. A carrier definition names the
 * version it was written for; the registry refuses any other.
 */
export const CARRIER_API_VERSION = 2;

/** What a carrier declares about itself, so that nobody infers it from the carrier's name. */
export interface CarrierCapabilities {
  /**
   * The listeners it opens itself, by name, with their default ports (HBONE: `{ hbone: 15008 }`).
   * They are the proxy's own ports: excluded from capture, never dialled for a peer, and named
   * in `policy.ports` to move them.
   */
  listens?: Readonly<Record<string, number>>;
  /**
   * It runs on the native relay engine: it loads only where the engine is installed and loads,
   * and one factory (one engine) serves every workload of a process.
   */
  needsEngine?: boolean;
}

/**
 * What a carrier module exports (as its default export, or as `carrier`): a named factory with
 * its capabilities. Importing the module must do nothing; the engine or sockets are touched only
 * once `create` is called and the carrier used.
 *
 * @example
 * ```ts
 * export default defineCarrier({
 *   name: 'acme',
 *   apiVersion: CARRIER_API_VERSION,
 *   description: 'Carries connections over Acme tunnels',
 *   listens: { acme: 15010 },
 *   create: () => acmeCarrier(),
 * });
 * ```
 */
export interface CarrierDefinition<Options = Record<string, unknown>> extends CarrierCapabilities {
  /** Registry name: lowercase letters, digits and "-", starting with a letter. */
  name: string;
  /** The carrier API major version it was written for; must equal {@link CARRIER_API_VERSION}. */
  apiVersion: number;
  /** One line for listings. */
  description: string;
  /** Why it cannot run on this host, or undefined when it can (checked before anything listens). */
  unavailable?(): string | undefined;
  /** Makes the factory the data plane calls once per workload. */
  create(options?: Options): CarrierFactory;
}

/** Identity function that gives a carrier definition its type. */
export function defineCarrier<Options = Record<string, unknown>>(
  definition: CarrierDefinition<Options>,
): CarrierDefinition<Options> {
  return definition;
}
