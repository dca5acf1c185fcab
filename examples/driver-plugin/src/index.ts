/**
 * `switchyard-driver-files` — an example third-party Switchyard driver. It writes each policy as
 * a JSON file for another system to pick up. Load it with
 * `switchyard --driver-module switchyard-driver-files drivers`.
 *
 * @example
 * ```ts
 * import { DriverRegistry } from '@switchyard/core';
 * const registry = new DriverRegistry();
 * await registry.load('switchyard-driver-files');
 * const files = await registry.create('files', { directory: '/var/lib/acme/policies' });
 * ```
 *
 * @module
 */
import { DRIVER_API_VERSION, defineDriver } from '@switchyard/core';
import { type FilesDriverOptions, filesDriver } from './files-driver.js';

export { type FilesDriverOptions, filesDriver } from './files-driver.js';

/** The registry entry: what `--driver-module` finds as the package's default export. */
const driver = defineDriver<FilesDriverOptions>({
  name: 'files',
  apiVersion: DRIVER_API_VERSION,
  description: 'Example plugin: writes each policy as a JSON file for another system to apply',
  create: (options) => filesDriver(options),
});

export default driver;
