import { isIP } from 'node:net';
import { canonicalAddress, type ServiceDestination, type ServiceEndpoint } from '@switchyard/dataplane';
import { formatSpiffeId } from '@switchyard/mesh';
import type { PodView } from '../sources/pod-index.js';
import { intern } from '../util/intern.js';
import type { CompactEndpoint, CompactService, CompactSlice, ServicePort } from './compact.js';

/** The pods as the index reads them: the one pod that holds an address (the source's {@link PodView}). */
export type PodOwners = Pick<PodView, 'ownerOf'>;

/** The facts the index is built from. */
export interface IndexInputs {
  services: Iterable<CompactService>;
  /** Slices by Service (`namespace/name`). */
  slices: ReadonlyMap<string, readonly CompactSlice[]>;
  pods: PodOwners;
  trustDomain: string;
}

/** `address|port` → the Service there and its endpoints now: what the data plane asks per connection. */
export type ServiceIndex = ReadonlyMap<string, ServiceDestination>;

/** The key of a ClusterIP and port in a {@link ServiceIndex}. */
export const vipKey = (address: string, port: number) => `${canonicalAddress(address) ?? address}|${port}`;

/**
 * Builds the index: every ClusterIP and TCP port of every non-headless Service, with the
 * endpoints that may take new connections — the ready ones, or, when none is ready, those still
 * serving while they terminate (as kube-proxy does). A named target port resolves per
 * endpoint from its slice's port of the same Service port name; an endpoint whose slice does not
 * name the port is left out. Identities come from the pod the slice's `targetRef` names.
 */
export function buildIndex(inputs: IndexInputs): ServiceIndex {
  const index = new Map<string, ServiceDestination>();
  for (const s of inputs.services)
    for (const [key, destination] of indexService(
      s,
      inputs.slices.get(`${s.namespace}/${s.name}`) ?? [],
      inputs,
    ))
      index.set(key, destination);
  return index;
}

/** One Service's entries of the index (see {@link buildIndex}): what a change to it or its slices replaces. */
export function indexService(
  s: CompactService,
  serviceSlices: readonly CompactSlice[],
  inputs: Pick<IndexInputs, 'pods' | 'trustDomain'>,
): [string, ServiceDestination][] {
  const id = `${s.namespace}/${s.name}`;
  const entries: [string, ServiceDestination][] = [];
  for (const ip of s.clusterIPs) {
    // A ClusterIP takes the slices of its own family: an IPv4 VIP never leads to IPv6 pods.
    const family = isIP(ip) === 6 ? 'IPv6' : 'IPv4';
    const slices = serviceSlices.filter((slice) => slice.addressType === family);
    for (const port of s.ports) {
      const endpoints = usable(endpointsOf(port, slices)).flatMap(({ endpoint, number }) =>
        serviceEndpoint(endpoint, number, inputs),
      );
      entries.push([vipKey(ip, port.port), { kind: 'service', service: id, endpoints: unique(endpoints) }]);
    }
  }
  return entries;
}

/** One endpoint per address and port (slices may overlap while the controller moves endpoints). */
function unique(endpoints: ServiceEndpoint[]): ServiceEndpoint[] {
  const seen = new Set<string>();
  return endpoints.filter((e) => {
    const key = `${canonicalAddress(e.address) ?? e.address}|${e.port}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Each endpoint of the Service's slices with the number its slice gives the port. */
export function endpointsOf(
  port: ServicePort,
  slices: readonly CompactSlice[],
): { endpoint: CompactEndpoint; number: number }[] {
  return slices.flatMap((slice) => {
    const number = slice.ports[port.name];
    return number === undefined ? [] : slice.endpoints.map((endpoint) => ({ endpoint, number }));
  });
}

function usable<T extends { endpoint: CompactEndpoint }>(all: T[]): T[] {
  const ready = all.filter((e) => e.endpoint.ready);
  return ready.length > 0 ? ready : all.filter((e) => e.endpoint.serving && e.endpoint.terminating);
}

/** The endpoint as the data plane takes it; the API lets consumers use only an endpoint's first address. */
function serviceEndpoint(
  e: CompactEndpoint,
  port: number,
  inputs: Pick<IndexInputs, 'pods' | 'trustDomain'>,
): ServiceEndpoint[] {
  const address = e.addresses[0];
  if (!address) return [];
  const pod = identityOf(e, inputs);
  // An address no known pod owns is unverified, never taken for a pod outside the mesh.
  if (!pod) return [{ address, port, identities: [], state: 'unverified' }];
  return [{ address, port, identities: [pod.identity], state: pod.inMesh ? 'mesh' : 'plain' }];
}

/** The endpoint's pod and the SPIFFE ID it must present, when the pod is known and owns the address. */
export function identityOf(
  e: CompactEndpoint,
  inputs: Pick<IndexInputs, 'pods' | 'trustDomain'>,
): { identity: string; inMesh: boolean } | undefined {
  const address = e.addresses[0];
  if (!e.pod || !address) return undefined;
  const pod = inputs.pods.ownerOf(address);
  // A stale slice naming a pod that no longer holds the address pins nothing: fail closed.
  if (!pod || pod.name !== e.pod.name || pod.namespace !== e.pod.namespace) return undefined;
  return {
    // One string per account, however many endpoints the index holds.
    identity: intern(
      formatSpiffeId({
        trustDomain: inputs.trustDomain,
        namespace: pod.namespace,
        serviceAccount: pod.serviceAccount,
      }),
    ),
    inMesh: pod.inMesh,
  };
}
