/** Where a pod's network lives, as read from the runtime's verbose sandbox info. */
export interface SandboxNetwork {
  platform: 'linux' | 'windows';
  /** The pod shares the node's network: capturing it would capture the node. */
  hostNetwork: boolean;
  /** Linux: the pod's network namespace file. */
  netnsPath?: string;
  /** Linux: the sandbox (pause) process. */
  sandboxPid?: number;
  /** Windows: the HNS namespace GUID. */
  hnsNamespace?: string;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null ? (v as Json) : {});

/**
 * Reads the network from `PodSandboxStatus(verbose).info.info` (containerd's JSON):
 * - Linux: `runtimeSpec.linux.namespaces[type=network].path`, else `/proc/<pid>/ns/net`; no
 *   network entry at all means the pod uses the host network;
 * - Windows: `runtimeSpec.windows.network.networkNamespace`, the HNS namespace GUID.
 */
export function sandboxNetworkFromInfo(info: unknown): SandboxNetwork {
  const root = obj(info);
  const spec = obj(root.runtimeSpec);
  const pid = typeof root.pid === 'number' && root.pid > 0 ? root.pid : undefined;
  const nodeMode = obj(obj(obj(obj(root.config).linux).security_context).namespace_options).network;
  if (spec.windows !== undefined) {
    const ns = obj(obj(spec.windows).network).networkNamespace;
    return typeof ns === 'string' && ns !== ''
      ? { platform: 'windows', hostNetwork: false, hnsNamespace: ns.toLowerCase() }
      : { platform: 'windows', hostNetwork: true };
  }
  const namespaces = Array.isArray(obj(spec.linux).namespaces) ? (obj(spec.linux).namespaces as Json[]) : [];
  const network = namespaces.find((n) => obj(n).type === 'network');
  if (!network || nodeMode === 2 || nodeMode === 'NODE')
    return { platform: 'linux', hostNetwork: true, ...(pid ? { sandboxPid: pid } : {}) };
  const path =
    typeof network.path === 'string' && network.path !== ''
      ? network.path
      : pid
        ? `/proc/${pid}/ns/net`
        : undefined;
  return {
    platform: 'linux',
    hostNetwork: false,
    ...(path ? { netnsPath: path } : {}),
    ...(pid ? { sandboxPid: pid } : {}),
  };
}
