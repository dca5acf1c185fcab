import type { DockerContainer } from '../docker/docker-container.js';
import type { Workload } from './workload.js';

/** Labels that give a Docker container's identity (Docker has no namespaces or service accounts). */
export const DOCKER_IDENTITY_LABELS = Object.freeze({
  namespace: 'switchyard.io/namespace',
  serviceAccount: 'switchyard.io/service-account',
});

/**
 * Pure: the workload of a container that opted in (`label` = `enabled`), or undefined. Its name is
 * the container's, its namespace and service account come from the identity labels (default
 * `default`), its network is its first process's namespace (Linux) or the HNS endpoint of its
 * address (Windows: `hnsEndpoint`, found by the caller; without it the container is left out).
 * Its families are those of its addresses.
 */
export function dockerWorkload(
  c: DockerContainer,
  label: string,
  optIn: string,
  hnsEndpoint?: string,
): Workload | undefined {
  if (c.labels[label] !== optIn || !c.network) return undefined;
  if (c.network.kind === 'hns' && !hnsEndpoint) return undefined;
  const namespace = c.labels[DOCKER_IDENTITY_LABELS.namespace] || 'default';
  const name = c.name.toLowerCase().replace(/[^a-z0-9.-]/g, '-');
  return {
    id: `${namespace}/${name}`,
    name,
    namespace,
    serviceAccount: c.labels[DOCKER_IDENTITY_LABELS.serviceAccount] || 'default',
    network: c.network.kind === 'netns' ? { pid: c.pid } : { hnsEndpoint: hnsEndpoint as string },
    ips: c.ips,
    probePorts: [],
    // Docker turns IPv6 off in a container whose networks give it no IPv6 address.
    families: c.ips.some((ip) => ip.includes(':')) ? ['ipv4', 'ipv6'] : ['ipv4'],
  };
}
