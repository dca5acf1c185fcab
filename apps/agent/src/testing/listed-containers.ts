import type { DockerContainer } from '../docker/docker-container.js';
import type { DockerWatcher } from '../docker/docker-watcher.js';

/** The metadata proxying label the tests' containers carry. */
export const METADATA_LABEL = 'switchyard.io/metadata';

/** A watcher that reports `containers` as Docker's list (everything that listens to it is real). */
export function listedBy(containers: DockerContainer[]): DockerWatcher {
  return {
    syncs: 1,
    listen: (listener: (c: DockerContainer[]) => void) => {
      listener(containers);
      return () => undefined;
    },
    starting: async () => undefined,
  } as unknown as DockerWatcher;
}

/** A running container with the metadata `role` (`client`, `proxy`), in the namespace `netns` if given. */
export function metadataContainer(
  name: string,
  role: string,
  ips: string[],
  netns?: string,
): DockerContainer {
  return {
    id: `${name}-id`,
    name,
    labels: { [METADATA_LABEL]: role },
    pid: 1,
    startedAt: '2026-12-07T00:00:00Z',
    ips,
    network: netns ? { kind: 'netns', path: `/run/netns/${netns}` } : undefined,
  };
}
