import type { V1Container, V1ContainerStatus, V1Namespace, V1Pod } from '@kubernetes/client-node';
import { intern } from '../util/intern.js';

/**
 * What the informers keep of each object: the fields the agent reads, nothing else (no
 * managedFields, annotations, owner references, images, environment, volumes…). Each keeps
 * `metadata.name`, `namespace` and `resourceVersion`, which the cache needs.
 */
const meta = (o: V1Pod | V1Namespace, labels?: Record<string, string>) => ({
  name: o.metadata?.name,
  namespace: intern(o.metadata?.namespace),
  resourceVersion: o.metadata?.resourceVersion,
  ...(labels && Object.keys(labels).length > 0 ? { labels } : {}),
});

/** A namespace: its name, and the opt-in label alone. */
export function namespaceLabel(n: V1Namespace, label: string): V1Namespace {
  const value = n.metadata?.labels?.[label];
  return { metadata: meta(n, value === undefined ? undefined : { [label]: intern(value) }) };
}

/** Phases after which a pod's addresses may be another's (the only phases the agent tells apart). */
const FINISHED = new Set(['Succeeded', 'Failed']);

/**
 * Any pod of the cluster (for identities and Service endpoints): its addresses, account, whether
 * it finished, host network, and the opt-in label.
 */
export function peerPod(p: V1Pod, label: string): V1Pod {
  const value = p.metadata?.labels?.[label];
  const phase = p.status?.phase;
  return {
    metadata: meta(p, value === undefined ? undefined : { [label]: intern(value) }),
    spec: {
      ...(p.spec?.hostNetwork ? { hostNetwork: true } : {}),
      ...(p.spec?.serviceAccountName ? { serviceAccountName: intern(p.spec.serviceAccountName) } : {}),
    } as V1Pod['spec'],
    status: {
      ...(phase && FINISHED.has(phase) ? { phase } : {}),
      podIPs: (p.status?.podIPs ?? []).map((i) => ({ ip: i.ip })),
    },
  };
}

/**
 * A pod of this node (a workload candidate): all the above, its uid (a runtime's announcement
 * names it), labels, containers' probes and ports, and container ids.
 */
export function localPod(p: V1Pod): V1Pod {
  return {
    metadata: {
      ...meta(p, { ...(p.metadata?.labels ?? {}) }),
      ...(p.metadata?.uid ? { uid: p.metadata.uid } : {}),
    },
    spec: {
      ...(p.spec?.nodeName ? { nodeName: p.spec.nodeName } : {}),
      ...(p.spec?.hostNetwork ? { hostNetwork: true } : {}),
      ...(p.spec?.serviceAccountName ? { serviceAccountName: p.spec.serviceAccountName } : {}),
      containers: (p.spec?.containers ?? []).map(probesOf),
    },
    status: {
      ...(p.status?.phase ? { phase: p.status.phase } : {}),
      podIPs: (p.status?.podIPs ?? []).map((i) => ({ ip: i.ip })),
      containerStatuses: (p.status?.containerStatuses ?? []).map((c) => ({
        name: c.name,
        ...(c.containerID ? { containerID: c.containerID } : {}),
        // Only what podWorkload reads: the rest of a status is not kept.
      })) as V1ContainerStatus[],
    },
  };
}

function probesOf(c: V1Container): V1Container {
  return {
    name: c.name,
    ...(c.ports
      ? {
          ports: c.ports.map((p) => ({
            containerPort: p.containerPort,
            ...(p.name ? { name: p.name } : {}),
          })),
        }
      : {}),
    ...(c.readinessProbe ? { readinessProbe: c.readinessProbe } : {}),
    ...(c.livenessProbe ? { livenessProbe: c.livenessProbe } : {}),
    ...(c.startupProbe ? { startupProbe: c.startupProbe } : {}),
  };
}
