import type { AgentConfig } from '../config/agent-config.js';
import { loadKubeClient } from '../kubernetes/kube-client.js';
import { type KubeQuery, kubeGet } from '../kubernetes/kube-get.js';
import type { CheckResult } from './check-result.js';

/**
 * Preflight of the `kubernetes` source: the API answers, and lets this agent list this node's pods,
 * the namespaces, the Services and the EndpointSlices (what its informers do first).
 */
export async function kubernetesReachable(config: AgentConfig): Promise<CheckResult[]> {
  if (config.source.kind !== 'kubernetes') return [];
  const k8s = await loadKubeClient();
  const kc = new k8s.KubeConfig();
  try {
    if (config.source.kubeconfig) kc.loadFromFile(config.source.kubeconfig);
    else kc.loadFromCluster();
  } catch (error) {
    return [
      {
        name: 'kubernetes',
        ok: false,
        blocking: true,
        message: `no Kubernetes configuration: ${(error as Error).message}`,
        fix: 'run in a pod with a service account, or set source.kubeconfig',
      },
    ];
  }
  const server = kc.getCurrentCluster()?.server ?? '(no server)';
  const attempt = async (name: string, call: () => Promise<unknown>): Promise<CheckResult> => {
    try {
      await call();
      return { name, ok: true, blocking: false, message: `allowed at ${server}` };
    } catch (error) {
      const code = (error as { code?: number }).code;
      const forbidden = code === 401 || code === 403;
      return {
        name,
        ok: false,
        blocking: true,
        message: forbidden
          ? `the API at ${server} refused (${code})`
          : `the API at ${server} did not answer: ${(error as Error).message.split('\n')[0]}`,
        fix: forbidden
          ? 'apply deploy/kubernetes/rbac.yaml (get, list, watch on pods and namespaces; list, watch on services and endpointslices) and run as its service account'
          : 'check the API server address and the network from this node',
      };
    }
  };
  const list =
    (path: string, query: KubeQuery = {}) =>
    () =>
      kubeGet(kc, path, { ...query, limit: 1 });
  return Promise.all([
    attempt(
      `kubernetes: list pods on ${config.node}`,
      list('/api/v1/pods', { fieldSelector: `spec.nodeName=${config.node}` }),
    ),
    attempt('kubernetes: list namespaces', list('/api/v1/namespaces')),
    attempt('kubernetes: list services', list('/api/v1/services')),
    attempt('kubernetes: list endpointslices', list('/apis/discovery.k8s.io/v1/endpointslices')),
  ]);
}
