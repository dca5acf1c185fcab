/**
 * `@switchyard/driver-hns` — Windows capture for Switchyard: HNS `L4WFPPROXY` policies on a
 * container's endpoint, through koffi calling computenetwork.dll (the successor of Microsoft's
 * hcnproxyctrl). Importing it loads nothing; the DLLs load on first use.
 *
 * @example
 * ```ts
 * import { hnsDriver } from '@switchyard/driver-hns';
 *
 * const driver = hnsDriver();
 * await driver.apply({ kind: 'hns-endpoint', id: '93f86a7f-e361-4362-b8a4-81bbb6a622dd' }, {
 *   families: ['ipv4'],
 *   inbound: { port: 15006 },
 *   outbound: { port: 15001, excludePorts: [53] },
 *   bypass: { userSid: 'S-1-5-32-556' },
 * });
 * ```
 *
 * @module
 */
import { DRIVER_API_VERSION, defineDriver } from '@switchyard/core';
import { type HnsDriverOptions, hnsDriver } from './hns-driver.js';

export { type HcnApi, type HcnLibraryPaths, loadHcn } from './hcn-binding.js';
export { describeHresult, HCN_ERROR_NAMES, HcnError } from './hcn-errors.js';
export { type HnsDriverOptions, hnsDriver } from './hns-driver.js';
export { namespaceEndpoints } from './namespace-endpoints.js';
export {
  type FiveTuple,
  fromHnsPolicies,
  type L4WfpProxyPolicy,
  type L4WfpProxySettings,
  LOCAL_SYSTEM_SID,
  modifyRequest,
  NETWORK_CONFIGURATION_OPERATORS_SID,
  type ProxyExceptions,
  REQUIRED_HNS_VERSION,
  toHnsPolicies,
} from './policy-mapping.js';

/** The registry entry of the hns driver. */
export const driver = defineDriver<HnsDriverOptions>({
  name: 'hns',
  apiVersion: DRIVER_API_VERSION,
  description: 'Windows: HNS L4WFPPROXY endpoint policies through computenetwork.dll',
  create: (options) => hnsDriver(options),
});

export default driver;
