/**
 * The `memory` driver: the driver contract kept in process memory, touching nothing on the host.
 *
 * @example
 * ```ts
 * import { memoryDriver } from '@switchyard/core/memory';
 * const driver = memoryDriver();
 * await driver.apply({ kind: 'netns', name: 'demo' }, { inbound: { port: 15006 } });
 * ```
 *
 * @module
 */
import { defineDriver } from '../driver-definition.js';
import { DRIVER_API_VERSION } from '../version.js';
import { type MemoryDriverOptions, memoryDriver } from './memory-driver.js';

export { loopbackSocketOps } from './loopback-socket-ops.js';
export { type MemoryDriverOptions, memoryDriver } from './memory-driver.js';

/** The registry entry of the memory driver. */
export const driver = defineDriver<MemoryDriverOptions>({
  name: 'memory',
  apiVersion: DRIVER_API_VERSION,
  description: 'Keeps policies in process memory; changes nothing on the host (tests, development)',
  create: (options) => memoryDriver(options),
});

export default driver;
