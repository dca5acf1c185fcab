import type { CheckResult } from '../check/check-result.js';
import type { AgentConfig } from '../config/agent-config.js';

/**
 * Preflight of the `kubernetes` source: the API answers, and lets this agent list this node's pods,
 * the namespaces, the Services and the EndpointSlices (what its informers do first).
 */
export async function kubernetesReachable(config: AgentConfig): Promise<CheckResult[]> {
  if (config.source.kind !== 'kubernetes') return [];
  const k8s = await import('@kubernetes/client-node');
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
  const api = kc.makeApiClient(k8s.CoreV1Api);
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
  return Promise.all([
    attempt(`kubernetes: list pods on ${config.node}`, () =>
      api.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${config.node}`, limit: 1 }),
    ),
    attempt('kubernetes: list namespaces', () => api.listNamespace({ limit: 1 })),
    attempt('kubernetes: list services', () => api.listServiceForAllNamespaces({ limit: 1 })),
    attempt('kubernetes: list endpointslices', () =>
      kc.makeApiClient(k8s.DiscoveryV1Api).listEndpointSliceForAllNamespaces({ limit: 1 }),
    ),
  ]);
}
