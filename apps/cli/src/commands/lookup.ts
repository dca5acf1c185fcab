import type { Target } from '@switchyard/core';
import {
  type ContainerNetwork,
  captureTarget,
  connectCri,
  type LookupOptions,
  lookupWorkload,
  type PodNetwork,
} from '@switchyard/cri';
import { EXIT } from '../exit-codes.js';
import { type CliIo, printJson } from '../io.js';

/** Flags that reach the container runtime. */
export interface RuntimeOptions {
  runtimeEndpoint?: string;
  /** Windows: a computenetwork-compatible library (tests use the stand-in). */
  hcnLibrary?: string;
}

/** Resolves an HNS namespace to endpoints through driver-hns, loaded only for Windows pods. */
function hnsResolver(o: RuntimeOptions): LookupOptions['resolveHnsNamespace'] {
  if (process.platform !== 'win32' && !o.hcnLibrary) return undefined;
  return async (namespaceId) => {
    const { loadHcn, namespaceEndpoints } = await import('@switchyard/driver-hns');
    const lib = o.hcnLibrary;
    const api = await loadHcn(lib ? { computenetwork: lib, vmcompute: lib, ole32: lib } : {});
    return namespaceEndpoints(api, namespaceId);
  };
}

/** Looks up a container or pod through CRI. */
export async function lookup(id: string, o: RuntimeOptions): Promise<PodNetwork | ContainerNetwork> {
  const cri = await connectCri({ ...(o.runtimeEndpoint ? { endpoint: o.runtimeEndpoint } : {}) });
  try {
    const resolve = hnsResolver(o);
    return await lookupWorkload(cri, id, resolve ? { resolveHnsNamespace: resolve } : {});
  } finally {
    cri.close();
  }
}

/** The capture target of a container or pod, resolved through CRI (`--container`). */
export async function containerTarget(id: string, o: RuntimeOptions): Promise<Target> {
  return captureTarget(await lookup(id, o));
}

/** `switchyard lookup <id>`: the pod, its network namespace (or HNS endpoints) and IPs. */
export async function lookupCommand(
  id: string,
  o: RuntimeOptions,
  io: CliIo,
  json: boolean,
): Promise<number> {
  const found = await lookup(id, o);
  if (json) {
    printJson(io, found);
    return EXIT.ok;
  }
  const lines = [
    'containerId' in found ? `container   ${found.containerId} (${found.containerName})` : undefined,
    `pod         ${found.namespace}/${found.name} (${found.podSandboxId})`,
    `ips         ${found.ips.join(', ') || '-'}`,
    found.hostNetwork ? 'network     host network (not capturable)' : undefined,
    found.netnsPath ? `netns       ${found.netnsPath}` : undefined,
    found.hnsNamespace ? `hns ns      ${found.hnsNamespace}` : undefined,
    found.hnsEndpoints ? `endpoints   ${found.hnsEndpoints.join(', ')}` : undefined,
  ];
  io.stdout(`${lines.filter(Boolean).join('\n')}\n`);
  return EXIT.ok;
}

/** `switchyard hns lookup <containerId>`: the HNS endpoint id(s), one per line (hcnproxyctl parity). */
export async function hnsLookupCommand(
  id: string,
  o: RuntimeOptions,
  io: CliIo,
  json: boolean,
): Promise<number> {
  const found = await lookup(id, o);
  const endpoints = found.hnsEndpoints ?? [];
  if (json) printJson(io, { id, endpoints, hnsNamespace: found.hnsNamespace });
  else if (endpoints.length === 0) {
    io.stderr(
      `switchyard: ${id} has no HNS endpoint (${found.platform === 'linux' ? 'it is a Linux pod; use "switchyard lookup"' : 'host network'})\n`,
    );
    return EXIT.failure;
  } else io.stdout(`${endpoints.join('\n')}\n`);
  return EXIT.ok;
}
