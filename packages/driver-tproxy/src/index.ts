/**
 * `@switchyard/driver-tproxy` — Linux capture for Switchyard: an nftables TPROXY ruleset and
 * policy routing inside a workload's network namespace, and a native addon for the sockets
 * Node cannot make (IP_TRANSPARENT listeners, marked dials with the client's address as source).
 * Importing it does nothing; `nft`, `ip` and the addon are used on first call.
 *
 * @example
 * ```ts
 * import { tproxyDriver } from '@switchyard/driver-tproxy';
 *
 * const driver = tproxyDriver();
 * await driver.apply({ kind: 'netns', name: 'pod-a' }, { inbound: { port: 15006, excludePorts: [15008] } });
 * const server = await driver.socketOps.listen({ port: 15006, target: { kind: 'netns', name: 'pod-a' } });
 * server.on('connection', (s) => console.log(driver.socketOps.originalDestination(s)));
 * ```
 *
 * @module
 */
import { DRIVER_API_VERSION, defineDriver } from '@switchyard/core';
import { type TproxyDriverOptions, tproxyDriver } from './tproxy-driver.js';

export { policyFromListing } from './parse-ruleset.js';
export { policyComment, renderRuleset, routingCommands } from './render-ruleset.js';
export { DEFAULT_ROUTING, type RoutingSettings, TABLE_NAME } from './settings.js';
export { type TproxyDriverOptions, tproxyDriver } from './tproxy-driver.js';
export { transparentSocketOps } from './transparent-socket-ops.js';

/** The registry entry of the tproxy driver. */
export const driver = defineDriver<TproxyDriverOptions>({
  name: 'tproxy',
  apiVersion: DRIVER_API_VERSION,
  description: 'Linux: nftables TPROXY + policy routing in a network namespace, with transparent sockets',
  create: (options) => tproxyDriver(options),
});

export default driver;
