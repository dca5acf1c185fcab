import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { intern } from '../util/intern.js';

/** A Service port, as kept: its name (`''` when unnamed), its port on the ClusterIP, its target. */
export interface ServicePort {
  name: string;
  port: number;
  /** A number, or the name of a container port (resolved per endpoint from the EndpointSlices). */
  targetPort: number | string;
}

/** What the agent keeps of a Service: its virtual addresses and TCP ports. */
export interface CompactService {
  namespace: string;
  name: string;
  /** Its ClusterIPs; empty for a headless Service (`clusterIP: None`), whose pods are reached directly. */
  clusterIPs: string[];
  ports: ServicePort[];
}

/** What the agent keeps of one endpoint of an EndpointSlice. */
export interface CompactEndpoint {
  addresses: string[];
  /** Conditions as the API defines them: an unset `ready` counts as ready, an unset `serving` as `ready`. */
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** The pod behind it (`targetRef` of kind Pod). */
  pod?: { namespace: string; name: string };
  node?: string;
}

/** What the agent keeps of an EndpointSlice: its Service, its TCP ports by name, its endpoints. */
export interface CompactSlice {
  namespace: string;
  name: string;
  /** The `kubernetes.io/service-name` label. */
  service: string;
  /** The family of its endpoints' addresses: a ClusterIP takes endpoints of its own family only. */
  addressType: 'IPv4' | 'IPv6';
  /** Port number by Service port name (`''` for the unnamed one); TCP only. */
  ports: Record<string, number>;
  endpoints: CompactEndpoint[];
}

/** The label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** A Service reduced to what routing needs, or undefined for one with nothing to route (no TCP port). */
export function compactService(s: V1Service): CompactService | undefined {
  const namespace = s.metadata?.namespace;
  const name = s.metadata?.name;
  if (!namespace || !name) return undefined;
  const ips = s.spec?.clusterIPs?.length ? s.spec.clusterIPs : s.spec?.clusterIP ? [s.spec.clusterIP] : [];
  const ports = (s.spec?.ports ?? [])
    .filter((p) => (p.protocol ?? 'TCP') === 'TCP')
    .map((p) => ({
      name: p.name ?? '',
      port: p.port,
      targetPort: targetPortOf(p.targetPort, p.port),
    }));
  return { namespace, name, clusterIPs: ips.filter((ip) => ip && ip !== 'None'), ports };
}

function targetPortOf(target: unknown, port: number): number | string {
  if (typeof target === 'number') return target;
  if (typeof target === 'string' && target !== '') return /^\d+$/.test(target) ? Number(target) : target;
  return port;
}

/** An EndpointSlice reduced to what routing needs, or undefined for one of no Service or of FQDNs. */
export function compactSlice(s: V1EndpointSlice): CompactSlice | undefined {
  const namespace = s.metadata?.namespace;
  const name = s.metadata?.name;
  const service = s.metadata?.labels?.[SERVICE_NAME_LABEL];
  const addressType = s.addressType;
  if (!namespace || !name || !service || (addressType !== 'IPv4' && addressType !== 'IPv6')) return undefined;
  const ports: Record<string, number> = {};
  for (const p of s.ports ?? [])
    if ((p.protocol ?? 'TCP') === 'TCP' && typeof p.port === 'number') ports[p.name ?? ''] = p.port;
  const endpoints = (s.endpoints ?? []).map((e): CompactEndpoint => {
    const ready = e.conditions?.ready !== false;
    const ref = e.targetRef;
    return {
      addresses: e.addresses ?? [],
      ready,
      serving: e.conditions?.serving ?? ready,
      terminating: e.conditions?.terminating === true,
      ...(ref?.kind === 'Pod' && ref.name
        ? { pod: { namespace: intern(ref.namespace ?? namespace), name: ref.name } }
        : {}),
      // Namespaces and nodes recur across every endpoint: one copy of each.
      ...(e.nodeName ? { node: intern(e.nodeName) } : {}),
    };
  });
  return { namespace, name, service, addressType, ports, endpoints };
}
