import type { RedirectionDriver } from './driver.js';

/**
 * What a driver package exports: a named factory. Importing the package must have no side
 * effects; the driver touches the host only once `create` is called and its methods used.
 *
 * @example
 * ```ts
 * export default defineDriver({
 *   name: 'acme',
 *   apiVersion: DRIVER_API_VERSION,
 *   description: 'Programs Acme firewalls',
 *   create: (options) => acmeDriver(options),
 * });
 * ```
 */
export interface DriverDefinition<Options = Record<string, unknown>> {
  /** Registry name: lowercase letters, digits and "-", starting with a letter. */
  name: string;
  /** The driver API major version it was written for; must equal `DRIVER_API_VERSION`. */
  apiVersion: number;
  /** One line for `switchyard drivers`. */
  description: string;
  /** Makes a driver. Options come from the caller (CLI flags, agent config). */
  create(options?: Options): RedirectionDriver | Promise<RedirectionDriver>;
}

/** Identity function that gives a driver definition its type. */
export function defineDriver<Options = Record<string, unknown>>(
  definition: DriverDefinition<Options>,
): DriverDefinition<Options> {
  return definition;
}
