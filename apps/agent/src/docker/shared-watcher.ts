import type { Logger } from '@switchyard/dataplane';
import type { AgentConfig } from '../config/agent-config.js';
import { connectDocker } from './docker-client.js';
import { DockerWatcher } from './docker-watcher.js';

/**
 * One started watcher for both the `docker` source and metadata proxying when they talk to the
 * same daemon (one event stream, one relist of both labels, not two); `undefined` otherwise, and
 * each keeps its own. The caller closes it.
 *
 * @throws RuntimeUnavailableError when Docker does not answer.
 */
export async function sharedDockerWatcher(
  config: AgentConfig,
  logger: Logger,
): Promise<DockerWatcher | undefined> {
  const source = config.source;
  const metadata = config.metadataProxy;
  if (source.kind !== 'docker' || !metadata || metadata.docker !== source.socket) return undefined;
  const watcher = new DockerWatcher({
    docker: await connectDocker(source.socket),
    socket: source.socket,
    labels: [source.label, metadata.label],
    logger: logger.child({ component: 'docker' }),
    retry: config.retry,
    resyncMs: config.resyncSeconds * 1000,
  });
  await watcher.start();
  return watcher;
}
