import type { Logger } from '@switchyard/dataplane';
import type { AgentConfig } from '../config/agent-config.js';
import { fileSource } from './file-source.js';
import { kubernetesSource } from './kubernetes-source.js';
import type { WorkloadSource } from './workload.js';

/** The configured workload source. */
export function createSource(config: AgentConfig, logger: Logger): WorkloadSource {
  const s = config.source;
  if (s.kind === 'file') return fileSource(s.path, logger.child({ source: 'file' }));
  return kubernetesSource({ ...s, node: config.node }, logger.child({ source: 'kubernetes' }));
}
