/**
 * `@switchyard/dataplane/testing` — the carrier compliance suite (the data-plane twin of the
 * driver suite in `@switchyard/core/testing`) and the loopback lab it runs in. Every carrier,
 * ours and third parties', runs it from its own test file.
 *
 * @example
 * ```ts
 * // my-carrier.test.ts
 * import { describeCarrierCompliance } from '@switchyard/dataplane/testing';
 * import { myCarrier } from './my-carrier.js';
 *
 * describeCarrierCompliance({
 *   carrier: () => myCarrier(),
 *   route: (server) => ({ address: '127.0.0.1', port: server.listeners.find((l) => l.role === 'inbound')!.port }),
 * });
 * ```
 *
 * @module
 */
export { type CarrierComplianceOptions, describeCarrierCompliance } from './carrier-compliance.js';
export {
  type CarrierPair,
  dialOutbound,
  eventually,
  LOCAL,
  outboundVia,
  type PairOptions,
  readAll,
  sendRandom,
  startApp,
  startPair,
  type TestApp,
} from './lab.js';
