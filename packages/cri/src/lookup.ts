import {
  RuntimeUnavailableError,
  type Target,
  TargetInvalidError,
  TargetNotFoundError,
  TargetUnsupportedError,
} from '@switchyard/core';
import type { CriClient } from './cri-client.js';
import { type SandboxNetwork, sandboxNetworkFromInfo } from './sandbox-network.js';

/** A pod and the network it lives in. */
export interface PodNetwork extends SandboxNetwork {
  podSandboxId: string;
  name: string;
  namespace: string;
  uid: string;
  state: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** The pod's IPs, first the primary. */
  ips: string[];
  /** Windows: the HNS endpoint ids of the pod's namespace (when a resolver was given). */
  hnsEndpoints?: string[];
}

/** A container, and the network of its pod. */
export interface ContainerNetwork extends PodNetwork {
  containerId: string;
  containerName: string;
}

/** Options of the lookups. */
export interface LookupOptions {
  /** Windows: turns an HNS namespace GUID into its endpoint ids (driver-hns's `namespaceEndpoints`). */
  resolveHnsNamespace?: (namespaceId: string) => Promise<string[]>;
}

interface Listed {
  id: string;
}

/**
 * Lists with the runtime filtering by id (containerd resolves unique prefixes itself), so a node
 * with thousands of pods does not send them all; falls back to the whole list when the filtered
 * answer is empty (a runtime that matches only full ids), where the prefix is matched here.
 */
async function listFiltered<T extends Listed>(
  cri: CriClient,
  method: 'ListPodSandbox' | 'ListContainers',
  field: 'items' | 'containers',
  idOrPrefix: string,
): Promise<T[]> {
  const filtered = await cri.call<Record<string, T[]>>(method, { filter: { id: idOrPrefix.toLowerCase() } });
  if ((filtered[field] ?? []).length > 0) return filtered[field] as T[];
  return (await cri.call<Record<string, T[]>>(method, {}))[field] ?? [];
}

/** Finds the one id that equals `prefix` or starts with it, as crictl accepts short ids. */
function pick(kind: string, items: Listed[], prefix: string): string | undefined {
  const wanted = prefix.toLowerCase();
  const exact = items.find((i) => i.id === wanted);
  if (exact) return exact.id;
  const matches = items.filter((i) => i.id.startsWith(wanted));
  if (matches.length > 1) {
    throw new TargetInvalidError(
      `"${prefix}" is the start of ${matches.length} ${kind} ids (${matches.map((m) => m.id.slice(0, 12)).join(', ')}); give more characters`,
    );
  }
  return matches[0]?.id;
}

/**
 * The runtime's verbose sandbox info, which must be a JSON object that names the runtime spec:
 * empty or unparsable info (some CRI-O versions answer `{"info":"{}"}`) says nothing about the
 * pod's network, and must never be read as "host network".
 *
 * @throws RuntimeUnavailableError naming the pod and what came back.
 */
function parseSandboxInfo(cri: CriClient, podSandboxId: string, text: string | undefined): unknown {
  const refuse = (what: string) =>
    new RuntimeUnavailableError(
      `${cri.endpoint} gave ${what} for pod ${podSandboxId.slice(0, 12)}'s verbose status, so its network namespace is unknown; Switchyard needs the runtime spec there (containerd 1.6+, or CRI-O with verbose sandbox info)`,
    );
  let info: unknown;
  try {
    info = JSON.parse(text ?? '');
  } catch {
    throw refuse(text ? `unparsable info (${JSON.stringify(text.slice(0, 80))})` : 'no info');
  }
  const root = typeof info === 'object' && info !== null ? (info as Record<string, unknown>) : {};
  if (typeof root.runtimeSpec !== 'object' || root.runtimeSpec === null)
    throw refuse('info without a runtime spec');
  return info;
}

async function podNetwork(cri: CriClient, podSandboxId: string, options: LookupOptions): Promise<PodNetwork> {
  const response = await cri.call<{ status: Record<string, unknown>; info: Record<string, string> }>(
    'PodSandboxStatus',
    {
      podSandboxId,
      verbose: true,
    },
  );
  const status = response.status as {
    id: string;
    state: string;
    metadata: { name: string; namespace: string; uid: string };
    network?: { ip?: string; additionalIps?: { ip: string }[] };
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  const network = sandboxNetworkFromInfo(parseSandboxInfo(cri, podSandboxId, response.info?.info));
  const ips = [status.network?.ip, ...(status.network?.additionalIps ?? []).map((p) => p.ip)].filter(
    (ip): ip is string => !!ip,
  );
  const pod: PodNetwork = {
    podSandboxId: status.id,
    name: status.metadata?.name ?? '',
    namespace: status.metadata?.namespace ?? '',
    uid: status.metadata?.uid ?? '',
    state: status.state,
    labels: status.labels ?? {},
    annotations: status.annotations ?? {},
    ips,
    ...network,
  };
  if (network.hnsNamespace && options.resolveHnsNamespace)
    pod.hnsEndpoints = await options.resolveHnsNamespace(network.hnsNamespace);
  return pod;
}

/** Looks a pod up by id or unique id prefix. @throws TargetNotFoundError, TargetInvalidError (ambiguous prefix). */
export async function lookupPod(
  cri: CriClient,
  idOrPrefix: string,
  options: LookupOptions = {},
): Promise<PodNetwork> {
  const items = await listFiltered<Listed>(cri, 'ListPodSandbox', 'items', idOrPrefix);
  const id = pick('pod', items, idOrPrefix);
  if (!id)
    throw new TargetNotFoundError(
      `no pod sandbox has the id "${idOrPrefix}" (${items.length} pods known to ${cri.endpoint}); list them with "crictl pods"`,
    );
  return podNetwork(cri, id, options);
}

/** Looks a container up by id or unique id prefix, with its pod's network. */
export async function lookupContainer(
  cri: CriClient,
  idOrPrefix: string,
  options: LookupOptions = {},
): Promise<ContainerNetwork> {
  const containers = await listFiltered<Listed & { podSandboxId: string; metadata: { name: string } }>(
    cri,
    'ListContainers',
    'containers',
    idOrPrefix,
  );
  const id = pick('container', containers, idOrPrefix);
  if (!id) {
    throw new TargetNotFoundError(
      `no container has the id "${idOrPrefix}" (${containers.length} containers known to ${cri.endpoint}); list them with "crictl ps -a"`,
    );
  }
  const container = containers.find((c) => c.id === id)!;
  return {
    ...(await podNetwork(cri, container.podSandboxId, options)),
    containerId: id,
    containerName: container.metadata?.name ?? '',
  };
}

/**
 * Looks up an id that may name a container or a pod (containers first, as hcnproxyctl's lookup
 * takes a container id). @throws as the two lookups do; ambiguous across both is an error too.
 */
export async function lookupWorkload(
  cri: CriClient,
  idOrPrefix: string,
  options: LookupOptions = {},
): Promise<PodNetwork | ContainerNetwork> {
  try {
    return await lookupContainer(cri, idOrPrefix, options);
  } catch (error) {
    if (!(error instanceof TargetNotFoundError)) throw error;
  }
  try {
    return await lookupPod(cri, idOrPrefix, options);
  } catch (error) {
    if (error instanceof TargetNotFoundError) {
      throw new TargetNotFoundError(
        `no container or pod has the id "${idOrPrefix}" at ${cri.endpoint}; list them with "crictl ps -a" and "crictl pods"`,
      );
    }
    throw error;
  }
}

/**
 * The capture target of a looked-up workload: its network namespace on Linux, its (first) HNS
 * endpoint on Windows. @throws TargetUnsupportedError for host-network pods.
 */
export function captureTarget(network: PodNetwork): Target {
  const who = `${network.namespace}/${network.name}`;
  if (network.hostNetwork) {
    throw new TargetUnsupportedError(
      `pod ${who} uses the host network; capturing it would capture the whole node — Switchyard captures pod-network workloads only`,
    );
  }
  if (network.platform === 'linux' && network.netnsPath) return { kind: 'netns', path: network.netnsPath };
  const endpoint = network.hnsEndpoints?.[0];
  if (network.platform === 'windows' && endpoint) return { kind: 'hns-endpoint', id: endpoint };
  throw new TargetNotFoundError(
    `pod ${who} has no network the runtime reports (no netns path or HNS endpoint)`,
  );
}
