import type { DockerContainer } from '../docker/docker-container.js';
import type { DockerWatcher } from '../docker/docker-watcher.js';

/** The metadata proxying label the tests' containers carry. */
export const METADATA_LABEL = 'switchyard.io/metadata';

/** A watcher that reports `containers` as Docker's list (everything that listens to it is real). */
export function listedBy(containers: DockerContainer[]): DockerWatcher {
  return dockerListing(containers).watcher;
}

/**
 * A watcher whose list the test changes with `set` (as Docker's events would), and which knows a
 * container the runtime starts once `starting` names it.
 */
export function dockerListing(initial: DockerContainer[]): {
  watcher: DockerWatcher;
  set(containers: DockerContainer[]): void;
  starting(container: DockerContainer): void;
} {
  let containers = initial;
  const starting = new Map<string, DockerContainer>();
  const listeners = new Set<(c: DockerContainer[]) => void>();
  const watcher = {
    syncs: 1,
    listen: (listener: (c: DockerContainer[]) => void) => {
      listeners.add(listener);
      listener(containers);
      return () => listeners.delete(listener);
    },
    starting: async (id: string) => starting.get(id),
  } as unknown as DockerWatcher;
  return {
    watcher,
    set(next) {
      containers = next;
      for (const l of listeners) l(next);
    },
    starting: (c) => starting.set(c.id, c),
  };
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
