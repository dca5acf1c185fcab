import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';

/**
 * What the Service informers keep of each object: what `compactService` and `compactSlice` read,
 * and the `metadata.name`, `namespace` and `resourceVersion` the cache needs.
 */
export function keptService(s: V1Service): V1Service {
  return {
    metadata: {
      name: s.metadata?.name,
      namespace: s.metadata?.namespace,
      resourceVersion: s.metadata?.resourceVersion,
    },
    spec: {
      ...(s.spec?.clusterIP ? { clusterIP: s.spec.clusterIP } : {}),
      ...(s.spec?.clusterIPs ? { clusterIPs: s.spec.clusterIPs } : {}),
      ports: (s.spec?.ports ?? []).map((p) => ({
        port: p.port,
        ...(p.name ? { name: p.name } : {}),
        ...(p.protocol ? { protocol: p.protocol } : {}),
        ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}),
      })),
    },
  };
}

/** An EndpointSlice: its Service label, address type, TCP ports and endpoints' addresses, conditions, pods and nodes. */
export function keptSlice(s: V1EndpointSlice): V1EndpointSlice {
  const service = s.metadata?.labels?.['kubernetes.io/service-name'];
  return {
    metadata: {
      name: s.metadata?.name,
      namespace: s.metadata?.namespace,
      resourceVersion: s.metadata?.resourceVersion,
      ...(service !== undefined ? { labels: { 'kubernetes.io/service-name': service } } : {}),
    },
    addressType: s.addressType,
    ports: (s.ports ?? []).map((p) => ({
      ...(p.name !== undefined ? { name: p.name } : {}),
      ...(p.port !== undefined ? { port: p.port } : {}),
      ...(p.protocol ? { protocol: p.protocol } : {}),
    })),
    endpoints: (s.endpoints ?? []).map((e) => ({
      addresses: e.addresses,
      ...(e.conditions ? { conditions: { ...e.conditions } } : {}),
      ...(e.targetRef
        ? { targetRef: { kind: e.targetRef.kind, name: e.targetRef.name, namespace: e.targetRef.namespace } }
        : {}),
      ...(e.nodeName ? { nodeName: e.nodeName } : {}),
    })),
  };
}
