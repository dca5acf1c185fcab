/**
 * `@switchyard/cni` — capture before a workload's first packet. The runtime tells the agent, not
 * the other way round: the chained CNI plugin `switchyard-cni` (Kubernetes) and the OCI runtime
 * wrapper `switchyard-runtime` (Docker) ask the node agent over a unix socket to capture a
 * workload's network namespace, and wait until rules and listeners are in place; when the agent
 * cannot be asked, they fail, so the pod or container does not start (fail closed).
 *
 * @example
 * ```ts
 * import { AGENT_PATHS, buildNative, DEFAULT_AGENT_SOCKET, installCni } from '@switchyard/cni';
 *
 * const { cni } = await buildNative({ outDir: '/opt/switchyard/bin' });
 * await installCni({ binary: cni, agentSocket: DEFAULT_AGENT_SOCKET });
 * console.log(`the plugin asks ${AGENT_PATHS.cni} on ${DEFAULT_AGENT_SOCKET}`);
 * ```
 */
export {
  buildNative,
  NATIVE_PROGRAMS,
  type NativeBinaries,
  type NativeBuildOptions,
  type NativeVariant,
  nativeSourceDir,
} from './build-native.js';
export {
  type ChainEntry,
  type Conflist,
  SUPPORTED_CNI_VERSIONS,
  SWITCHYARD_CNI_TYPE,
} from './conflist.js';
export {
  CNI_INSTALL_DEFAULTS,
  type CniInstallOptions,
  type CniInstallResult,
  installCni,
  primaryCniConfig,
  uninstallCni,
} from './install.js';
export {
  CNI_WATCH_INTERVAL_MS,
  type CniWatchEvent,
  type CniWatchOptions,
  watchCniInstall,
} from './install-watch.js';
export {
  AGENT_PATHS,
  type CniCommand,
  type CniError,
  type CniNetConfig,
  type CniRequest,
  DEFAULT_AGENT_SOCKET,
  DEFAULT_AGENT_TIMEOUT_SECONDS,
  type RuntimeStartRequest,
} from './protocol.js';
