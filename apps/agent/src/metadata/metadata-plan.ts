import type { ContainerNetwork, DockerContainer } from '../docker/docker-container.js';

/** The label values of metadata proxying. */
export const METADATA_ROLES = Object.freeze({ client: 'client', proxy: 'proxy' });

/** A container in a metadata plan, by what status shows. */
export interface PlannedContainer {
  id: string;
  name: string;
}

/** The proxy container clients' metadata connections are delivered to. */
export interface PlannedProxy extends PlannedContainer {
  /** Its address clients' connections are relayed to (IPv4 first). */
  address: string;
  startedAt: string;
}

/** A client container and where its network lives. */
export interface PlannedClient extends PlannedContainer {
  network: ContainerNetwork;
}

/** What metadata proxying must hold on the node for a set of labelled containers. */
export interface MetadataPlan {
  proxy: PlannedProxy | undefined;
  /** Other running proxy containers: the most recently started one serves. */
  standby: PlannedContainer[];
  clients: PlannedClient[];
  /** Labelled containers that are left alone, and why. */
  ignored: (PlannedContainer & { reason: string })[];
}

/**
 * Pure: which container is the proxy and which are clients. Of several running proxies the one
 * started last serves (a restarted or replaced proxy takes over at once); a client on the host's
 * network, a proxy without an address, or an unknown label value is ignored with its reason, and
 * so is a client that also opts in to the mesh (`meshOptIn`) where a network holds one policy.
 */
export function planMetadata(
  containers: readonly DockerContainer[],
  label: string,
  meshOptIn?: { label: string; value: string },
): MetadataPlan {
  const plan: MetadataPlan = { proxy: undefined, standby: [], clients: [], ignored: [] };
  const proxies: PlannedProxy[] = [];
  for (const c of containers) {
    const role = c.labels[label];
    const named = { id: c.id, name: c.name };
    if (role === METADATA_ROLES.proxy) {
      if (c.ips[0]) proxies.push({ ...named, address: c.ips[0], startedAt: c.startedAt });
      else plan.ignored.push({ ...named, reason: 'the proxy container has no address' });
    } else if (role === METADATA_ROLES.client) {
      if (meshOptIn && c.labels[meshOptIn.label] === meshOptIn.value)
        plan.ignored.push({
          ...named,
          reason: `it is captured by the mesh (${meshOptIn.label}=${meshOptIn.value}), and the driver holds one policy per network`,
        });
      else if (c.network) plan.clients.push({ ...named, network: c.network });
      else plan.ignored.push({ ...named, reason: "it uses the host's network, which is never captured" });
    } else if (role !== undefined) {
      plan.ignored.push({ ...named, reason: `${label}=${role}: the value must be "client" or "proxy"` });
    }
  }
  proxies.sort((a, b) => b.startedAt.localeCompare(a.startedAt) || a.name.localeCompare(b.name));
  plan.proxy = proxies[0];
  plan.standby = proxies.slice(1).map(({ id, name }) => ({ id, name }));
  return plan;
}
