/**
 * `@switchyard/cni` — capture before a workload's first packet. The runtime tells the agent, not
 * the other way round: the chained CNI plugin `switchyard-cni` (Kubernetes) and the OCI runtime
 * wrapper `switchyard-runtime` (Docker) ask the node agent over a unix socket to capture a
 * workload's network namespace, and wait until rules and listeners are in place; when the agent
 * cannot be asked, they fail, so the pod or container does not start (fail closed).
 *
 * @example
 * ```ts
 * import { AGENT_PATHS, DEFAULT_AGENT_SOCKET } from '@switchyard/cni';
 * console.log(`the agent answers ${AGENT_PATHS.cni} on ${DEFAULT_AGENT_SOCKET}`);
 * ```
 */
export {
  AGENT_PATHS,
  type CniCommand,
  type CniError,
  type CniNetConfig,
  type CniRequest,
  DEFAULT_AGENT_SOCKET,
  type RuntimeStartRequest,
} from './protocol.js';
