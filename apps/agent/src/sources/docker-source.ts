import type { Logger } from '@switchyard/dataplane';
import { AGENT_DEFAULTS } from '../config/defaults.js';
import { connectDocker } from '../docker/docker-client.js';
import type { DockerContainer } from '../docker/docker-container.js';
import { DockerWatcher } from '../docker/docker-watcher.js';
import { hnsEndpointFinder } from '../network/hns-endpoint-of.js';
import { dockerWorkload } from './docker-workload.js';
import type { SourceSink, Workload, WorkloadSource } from './workload.js';

/** Options of {@link dockerSource}. */
export interface DockerSourceOptions {
  /** The Docker Engine API socket. */
  socket: string;
  /** The opt-in label (value `enabled`). */
  label: string;
  retry: { initialMs: number; maxMs: number };
  resyncMs: number;
  /**
   * A started watcher of the same daemon to listen to instead of one of its own (the agent shares
   * one with metadata proxying); its owner closes it.
   */
  watcher?: DockerWatcher;
}

/**
 * The `docker` source: running containers labelled `label=enabled`, from the Engine API (events
 * plus inspect, relisted after the stream breaks), as workloads captured in their own network.
 */
export function dockerSource(options: DockerSourceOptions, logger: Logger): WorkloadSource {
  let owned: DockerWatcher | undefined;
  let unlisten: (() => void) | undefined;
  return {
    kind: 'docker',
    async start(sink: SourceSink) {
      const hnsEndpointOf = hnsEndpointFinder();
      // Windows containers' HNS endpoints are looked up one snapshot at a time, in order.
      let chain = Promise.resolve();
      const onContainers = (containers: readonly DockerContainer[]) => {
        chain = chain
          .then(() => deliver(containers, sink, options.label, hnsEndpointOf))
          .catch((error: Error) => sink.problem(`docker containers not delivered: ${error.message}`));
      };
      if (options.watcher) unlisten = options.watcher.listen(onContainers);
      else {
        const docker = await connectDocker(options.socket);
        owned = new DockerWatcher({ ...options, docker, labels: [options.label], logger });
        await owned.start(onContainers);
      }
      await chain;
      logger.info('watching docker containers', {
        socket: options.socket,
        optIn: `${options.label}=${AGENT_DEFAULTS.optInValue}`,
      });
    },
    async announce(a) {
      const watcher = options.watcher ?? owned;
      if (a.kind !== 'container' || !watcher) return undefined;
      const c = await watcher.starting(a.id, a.pid);
      return c ? dockerWorkload(c, options.label, AGENT_DEFAULTS.optInValue) : undefined;
    },
    async close() {
      unlisten?.();
      await owned?.close();
    },
  };
}

async function deliver(
  containers: readonly DockerContainer[],
  sink: SourceSink,
  label: string,
  hnsEndpointOf: (ip: string) => Promise<string>,
): Promise<void> {
  const workloads: Workload[] = [];
  for (const c of containers) {
    let endpoint: string | undefined;
    if (c.network?.kind === 'hns' && c.labels[label] === AGENT_DEFAULTS.optInValue)
      endpoint = await hnsEndpointOf(c.network.ip).catch((error: Error) => {
        sink.problem(`container ${c.name}: ${error.message}`);
        return undefined;
      });
    const w = dockerWorkload(c, label, AGENT_DEFAULTS.optInValue, endpoint);
    if (w) workloads.push(w);
  }
  sink.snapshot(workloads);
}
