/**
 * `@switchyard/cri` — from a container or pod id to the network it lives in, through the CRI v1
 * API: the pod's network namespace on Linux, its HNS endpoints on Windows. So a user (or the node
 * agent) can say "capture this container" instead of hunting for namespaces and GUIDs.
 *
 * @example
 * ```ts
 * import { captureTarget, connectCri, lookupWorkload } from '@switchyard/cri';
 *
 * const cri = await connectCri();                     // containerd, then CRI-O, default sockets
 * const workload = await lookupWorkload(cri, '4f2a');  // container or pod, full id or unique prefix
 * console.log(workload.netnsPath, workload.ips);
 * await driver.apply(captureTarget(workload), policy);
 * cri.close();
 * ```
 *
 * @module
 */
export { type CriClient, type CriClientOptions, connectCri, isNotFound } from './cri-client.js';
export { DEFAULT_RUNTIME_ENDPOINTS, grpcTarget } from './endpoints.js';
export {
  type ContainerNetwork,
  captureTarget,
  type LookupOptions,
  lookupContainer,
  lookupPod,
  lookupWorkload,
  type PodNetwork,
} from './lookup.js';
export { type SandboxNetwork, sandboxNetworkFromInfo } from './sandbox-network.js';
