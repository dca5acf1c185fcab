import type { Logger } from '@switchyard/dataplane';
import type { WorkloadSource } from './workload.js';

/** Options of {@link kubernetesSource}. */
export interface KubernetesSourceOptions {
  node: string;
  label: string;
  kubeconfig?: string;
}

/** The `kubernetes` source. */
export function kubernetesSource(_options: KubernetesSourceOptions, _logger: Logger): WorkloadSource {
  return {
    kind: 'kubernetes',
    async start() {
      throw new Error('not yet');
    },
    async close() {},
  };
}
