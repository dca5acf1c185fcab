/**
 * `@switchyard/core` — what every Switchyard package shares: the platform-neutral
 * {@link RedirectionPolicy} and its validation, the {@link RedirectionDriver} contract, the driver
 * plugin {@link DriverRegistry}, and typed errors. No OS calls, no side effects on import.
 *
 * @example
 * ```ts
 * import { DriverRegistry, validatePolicy } from '@switchyard/core';
 *
 * const checked = validatePolicy({ inbound: { port: 15006, excludePorts: [15008] } });
 * if (!checked.ok) throw new Error(checked.issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
 * const driver = await new DriverRegistry().create('memory');
 * await driver.apply({ kind: 'netns', name: 'pod-a' }, checked.policy);
 * ```
 *
 * @module
 */

export { addressBytes } from './address-bytes.js';
export {
  CERT_FILE_MODE,
  KEY_FILE_MODE,
  STATE_FILE_MODE,
  writeFileAtomic,
  writeJsonAtomic,
} from './atomic-file.js';
export {
  type Cidr,
  cidrContains,
  cidrCovers,
  cidrMatcher,
  parseCidr,
  withoutCoveredBlocks,
} from './cidr.js';
export { type ConnectSocketOptions, connectSocket } from './connect-socket.js';
export type {
  AppliedPolicy,
  ApplyOptions,
  ApplyResult,
  Artifact,
  DriverCapabilities,
  ProbeProblem,
  ProbeResult,
  RedirectionDriver,
} from './driver.js';
export { type DriverDefinition, defineDriver } from './driver-definition.js';
export { type Endpoint, formatEndpoint } from './endpoint.js';
export {
  ApplyFailedError,
  CarrierDuplicateError,
  CarrierIncompatibleError,
  CarrierLoadError,
  CarrierNotFoundError,
  DriverDuplicateError,
  DriverIncompatibleError,
  DriverLoadError,
  DriverNotFoundError,
  ERROR_CLASSES,
  type ErrorKind,
  HboneTunnelError,
  hasErrorCode,
  InputInvalidError,
  InternalError,
  isSwitchyardError,
  PolicyConflictError,
  PolicyInvalidError,
  PolicyUnsupportedError,
  RuntimeUnavailableError,
  SWITCHYARD_ERROR_BRAND,
  SwitchyardError,
  type SwitchyardErrorOptions,
  TargetInvalidError,
  TargetNotFoundError,
  TargetUnsupportedError,
  UnsupportedPlatformError,
  UpstreamIdentityError,
  UpstreamTlsError,
  WorkloadFailedError,
  WorkloadInvalidError,
} from './errors.js';
export {
  type BypassIdentity,
  DEFAULT_BYPASS_MARK,
  DEFAULT_POLICY_ID,
  DEFAULT_PORTS,
  type InboundCapture,
  type IpFamily,
  type NormalizedBypass,
  type NormalizedInbound,
  type NormalizedOutbound,
  type NormalizedPolicy,
  type OutboundCapture,
  type PortRange,
  type PortSpec,
  PROXY_PORTS,
  type Protocol,
  type RedirectionPolicy,
} from './policy.js';
export type { PolicyIssue } from './policy-issue.js';
export { formatPortRange, isPort, mergePortRanges, parsePortSpec, portInRanges } from './port-range.js';
export { QUOTE_LIMIT, quoteInput } from './quote.js';
export {
  BUILTIN_DRIVERS,
  DriverRegistry,
  type DriverRegistryOptions,
  type DriverSource,
  type ModuleImporter,
} from './registry.js';
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  type DialOptions,
  type SocketAddress,
  type SocketOps,
  type TransparentListenOptions,
} from './socket-ops.js';
export {
  formatTarget,
  type HnsEndpointTarget,
  type NetnsTarget,
  type PluginTarget,
  parseTarget,
  type Target,
} from './target.js';
export { assertTargetKind } from './target-check.js';
export {
  isPolicyId,
  MAX_LIST_ENTRIES,
  normalizePolicy,
  POLICY_ID_RULE,
  type PolicyValidation,
  validatePolicy,
} from './validate-policy.js';
export { DRIVER_API_VERSION } from './version.js';
