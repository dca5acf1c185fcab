import { formatTarget, hasErrorCode, type RedirectionDriver, type Target } from '@switchyard/core';
import type { MetadataProxyConfig } from '../config/agent-config.js';
import { AGENT_DEFAULTS } from '../config/defaults.js';
import { connectDocker, type DockerApi } from '../docker/docker-client.js';
import { containerFromInspect } from '../docker/docker-container.js';
import { type HnsEndpointFinder, hnsEndpointFinder } from '../network/hns-endpoint-of.js';
import { METADATA_ROLES } from './metadata-plan.js';

/** Options of {@link removeMetadataCaptures}. */
export interface RemoveMetadataOptions {
  /** A connected Docker client instead of `config.docker` (tests). */
  docker?: DockerApi;
  hnsEndpointOf?: HnsEndpointFinder;
  platform?: NodeJS.Platform;
  /** Only say which captures would be removed. */
  dryRun?: boolean;
}

/**
 * Removes the metadata capture from every running client container (for `--uninstall`): without
 * it a client whose relay is gone stays refused until it restarts. The captures live in the
 * containers' own networks, so only running containers can hold one; with no Docker daemon
 * answering there are none to remove. Returns the targets it removed a capture from.
 */
export async function removeMetadataCaptures(
  config: MetadataProxyConfig,
  driver: RedirectionDriver,
  options: RemoveMetadataOptions = {},
): Promise<string[]> {
  let docker: DockerApi;
  try {
    docker = options.docker ?? (await connectDocker(config.docker));
  } catch (error) {
    if (hasErrorCode(error, 'SWY_ERR_RUNTIME_UNAVAILABLE')) return [];
    throw error;
  }
  const find = options.hnsEndpointOf ?? hnsEndpointFinder();
  const removed: string[] = [];
  const listed = await docker.listContainers({
    filters: { label: [`${config.label}=${METADATA_ROLES.client}`] },
  });
  for (const { Id } of listed) {
    const c = containerFromInspect(await docker.getContainer(Id).inspect(), options.platform);
    if (!c?.network) continue;
    const target: Target =
      c.network.kind === 'netns'
        ? { kind: 'netns', path: c.network.path }
        : { kind: 'hns-endpoint', id: await find(c.network.ip) };
    const id = AGENT_DEFAULTS.metadataProxy.policyId;
    const holds = options.dryRun
      ? (await driver.list(target)).some((p) => p.id === id)
      : (await driver.remove(target, id)) > 0;
    if (holds) removed.push(formatTarget(target));
  }
  return removed;
}
