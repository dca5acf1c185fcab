import type { KubeConfig } from '@kubernetes/client-node';
import { loadKubeClient } from './kube-client.js';

/** Loads the client (it is large: imported on first use) and the configuration. */
export async function kubeConfig(path: string | undefined): Promise<KubeConfig> {
  const k8s = await loadKubeClient();
  const kc = new k8s.KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromCluster();
  return kc;
}
