import type { KubernetesObject, V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { type CompactService, type CompactSlice, compactService, compactSlice } from './compact.js';

/**
 * What the Service informers keep of an object: its compact form (the one the directory indexes,
 * shared, not copied), and the `metadata.name`, `namespace` and `resourceVersion` the cache needs.
 */
export interface Kept<T> extends KubernetesObject {
  compact: T | undefined;
}

const meta = (o: KubernetesObject) => ({
  name: o.metadata?.name,
  namespace: o.metadata?.namespace,
  resourceVersion: o.metadata?.resourceVersion,
});

/** A Service reduced on arrival to its compact form. */
export function keptService(s: V1Service): V1Service {
  return { metadata: meta(s), compact: compactService(s) } satisfies Kept<CompactService> as V1Service;
}

/** An EndpointSlice reduced on arrival to its compact form. */
export function keptSlice(s: V1EndpointSlice): V1EndpointSlice {
  return {
    metadata: meta(s),
    compact: compactSlice(s),
  } satisfies Kept<CompactSlice> as unknown as V1EndpointSlice;
}

/** The compact form a kept object carries. */
export const compactOf = <T>(o: KubernetesObject): T | undefined => (o as Kept<T>).compact;
