import type { Logger } from '@switchyard/dataplane';
import type { AgentConfig } from '../config/agent-config.js';
import type { DockerWatcher } from '../docker/docker-watcher.js';
import { dockerSource } from './docker-source.js';
import { fileSource } from './file-source.js';
import { kubernetesSource } from './kubernetes-source.js';
import type { WorkloadSource } from './workload.js';

/** The configured workload source; a `docker` source listens to `watcher` when one is shared. */
export function createSource(config: AgentConfig, logger: Logger, watcher?: DockerWatcher): WorkloadSource {
  const s = config.source;
  if (s.kind === 'file') return fileSource(s.path, logger.child({ source: 'file' }));
  if (s.kind === 'docker')
    return dockerSource(
      {
        socket: s.socket,
        label: s.label,
        retry: config.retry,
        resyncMs: config.resyncSeconds * 1000,
        ...(watcher ? { watcher } : {}),
      },
      logger.child({ source: 'docker' }),
    );
  return kubernetesSource(
    { ...s, node: config.node, retry: config.retry },
    logger.child({ source: 'kubernetes' }),
  );
}
