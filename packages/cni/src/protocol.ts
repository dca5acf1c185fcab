/**
 * What the runtime side (the `switchyard-cni` plugin, the `switchyard-runtime` wrapper) and the
 * node agent say to each other: HTTP/1.0 over a unix socket on the host, one request a
 * connection. The agent is the one writer of capture rules; the runtime side only asks and waits.
 */

/** Where the agent listens for the runtime's requests unless configured otherwise (in its state directory). */
export const DEFAULT_AGENT_SOCKET = '/var/lib/switchyard-agent/agent.sock';

/** How long the runtime side waits for the agent's answer unless configured otherwise, seconds. */
export const DEFAULT_AGENT_TIMEOUT_SECONDS = 20;

/** The request paths. */
export const AGENT_PATHS = Object.freeze({
  /** A CNI command for a pod sandbox: body {@link CniRequest}. */
  cni: '/v1/cni',
  /** A container about to start (OCI `start`): body {@link RuntimeStartRequest}. */
  runtimeStart: '/v1/runtime/start',
});

/** The CNI commands the plugin forwards (VERSION is answered by the plugin itself). */
export type CniCommand = 'ADD' | 'DEL' | 'CHECK';

/**
 * The plugin's configuration: the conflist entry, as the runtime passes it on standard input
 * (with `prevResult` filled in by the runtime for ADD and CHECK).
 */
export interface CniNetConfig {
  cniVersion: string;
  name: string;
  type: string;
  /** The result of the plugins before this one (the main plugin's interfaces and IPs). */
  prevResult?: Record<string, unknown>;
  /** The agent's socket on the host. Default {@link DEFAULT_AGENT_SOCKET}. */
  agentSocket?: string;
  /** How long ADD waits for the agent's answer, seconds. Default {@link DEFAULT_AGENT_TIMEOUT_SECONDS}. */
  agentTimeoutSeconds?: number;
  /**
   * Pods of these namespaces never wait for the agent: the plugin passes them through at once,
   * also while the agent is down. Everything else fails closed when the agent cannot be asked.
   */
  excludeNamespaces?: string[];
  [key: string]: unknown;
}

/** `POST /v1/cni`: the CNI environment and configuration, as the plugin received them. */
export interface CniRequest {
  command: CniCommand;
  /** `CNI_CONTAINERID`: the sandbox id. */
  containerId: string;
  /** `CNI_NETNS`: the path of the pod's network namespace. */
  netns: string;
  /** `CNI_IFNAME`. */
  ifName: string;
  /** `CNI_ARGS`: `K=V;K=V` (the runtime puts K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_UID there). */
  args: string;
  /** The plugin's standard input. */
  config: CniNetConfig;
}

/**
 * The agent's answer to `POST /v1/cni`: status 200 and a body the plugin prints on standard output
 * as it is (the CNI result for ADD: `prevResult` passed through; empty for DEL and CHECK); any other
 * status and a body holding a {@link CniError}, which the plugin prints before exiting 1.
 */
export interface CniError {
  cniVersion: string;
  /** CNI's error codes: 4 invalid environment, 7 invalid configuration, 11 try again later; 100+ ours. */
  code: number;
  msg: string;
  details?: string;
}

/**
 * `POST /v1/runtime/start`: a container the OCI runtime is about to start (its namespaces exist
 * and its network is configured; its program has not run yet). The agent reads its state with
 * `runc --root ROOT state ID`. Answer: 200 and an empty body to go on; any other status and a
 * text the wrapper prints before it refuses to start the container (exit 1).
 */
export interface RuntimeStartRequest {
  /** The container id (Docker's id). */
  id: string;
  /** The runtime's `--root` (its state directory), absolute. */
  root: string;
}
