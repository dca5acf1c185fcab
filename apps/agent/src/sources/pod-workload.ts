import type { V1Container, V1Namespace, V1Pod, V1Probe } from '@kubernetes/client-node';
import type { Workload, WorkloadNetwork } from './workload.js';

/** The opt-in: a label on the pod or on its namespace, with the value `enabled` (`disabled` on a pod opts it out). */
export interface OptIn {
  label: string;
  value: string;
}

/** Whether a pod opted in, by its own label or its namespace's; the pod's label wins. */
export function optedIn(pod: V1Pod, namespace: V1Namespace | undefined, optIn: OptIn): boolean {
  const own = pod.metadata?.labels?.[optIn.label];
  if (own !== undefined) return own === optIn.value;
  return namespace?.metadata?.labels?.[optIn.label] === optIn.value;
}

/**
 * The workload of a pod, or undefined when it is nothing to capture yet or any more: host-network
 * pods (capturing them would capture the node), pods without an IP or a started container yet,
 * and pods that have finished. Its network is found through CRI by its first container's id;
 * its probe ports are excluded from inbound capture so kubelet reaches the app.
 */
export function podWorkload(pod: V1Pod): Workload | undefined {
  const meta = pod.metadata;
  const spec = pod.spec;
  const status = pod.status;
  if (!meta?.name || !meta.namespace || !spec || spec.hostNetwork) return undefined;
  if (status?.phase === 'Succeeded' || status?.phase === 'Failed') return undefined;
  const ips = (status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => !!ip);
  const containerId = (status?.containerStatuses ?? [])
    .map((c) => c.containerID?.replace(/^[a-z]+:\/\//, ''))
    .find((id): id is string => !!id);
  if (ips.length === 0 || !containerId) return undefined;
  return {
    id: `${meta.namespace}/${meta.name}`,
    name: meta.name,
    namespace: meta.namespace,
    serviceAccount: spec.serviceAccountName || 'default',
    network: { containerId },
    ips,
    probePorts: probePorts(spec.containers),
    labels: { ...(meta.labels ?? {}) },
  };
}

/**
 * The workload of a pod whose sandbox the runtime is setting up (CNI ADD): no container has
 * started, so its network and addresses come from the runtime, everything else from the pod.
 */
export function announcedPodWorkload(
  pod: V1Pod,
  network: WorkloadNetwork,
  ips: string[],
): Workload | undefined {
  const meta = pod.metadata;
  const spec = pod.spec;
  if (!meta?.name || !meta.namespace || !spec || spec.hostNetwork) return undefined;
  return {
    id: `${meta.namespace}/${meta.name}`,
    name: meta.name,
    namespace: meta.namespace,
    serviceAccount: spec.serviceAccountName || 'default',
    network,
    ips,
    probePorts: probePorts(spec.containers),
    labels: { ...(meta.labels ?? {}) },
  };
}

/** The ports kubelet probes (readiness, liveness, startup; HTTP, TCP and gRPC), named ports resolved. */
export function probePorts(containers: readonly V1Container[]): number[] {
  const ports = new Set<number>();
  for (const c of containers) {
    for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
      const port = probePort(probe, c);
      if (port !== undefined) ports.add(port);
    }
  }
  return [...ports].sort((a, b) => a - b);
}

function probePort(probe: V1Probe | undefined, c: V1Container): number | undefined {
  const port: unknown = probe?.httpGet?.port ?? probe?.tcpSocket?.port ?? probe?.grpc?.port;
  if (typeof port === 'number') return port;
  if (typeof port === 'string' && /^\d+$/.test(port)) return Number(port);
  if (typeof port === 'string') return c.ports?.find((p) => p.name === port)?.containerPort;
  return undefined;
}
