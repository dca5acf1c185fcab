import type { KubeConfig, KubernetesListObject, V1Namespace, V1Pod } from '@kubernetes/client-node';
import type { Logger } from '@switchyard/dataplane';
import { AGENT_DEFAULTS } from '../config/defaults.js';
import { informer } from './kube-informer.js';
import { podPeers } from './pod-peers.js';
import { optedIn, podWorkload } from './pod-workload.js';
import type { SourceSink, Workload, WorkloadSource } from './workload.js';

/** Options of {@link kubernetesSource}. */
export interface KubernetesSourceOptions {
  /** This node's name: only pods with this `spec.nodeName` are the agent's workloads. */
  node: string;
  /** The opt-in label, on a pod or its namespace (value `enabled`). */
  label: string;
  /** A kubeconfig file; default the in-cluster service account. */
  kubeconfig?: string;
}

/** Events of a burst are folded into one snapshot after this long, ms. */
const SETTLE_MS = 20;

/** Loads the client (it is large: only this source imports it) and the configuration. */
export async function kubeConfig(path: string | undefined): Promise<KubeConfig> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromCluster();
  return kc;
}

/**
 * The `kubernetes` source: informers on this node's pods (`spec.nodeName` field selector), on
 * namespaces (for the opt-in label), and on every pod (pod IP → namespace + service account, the
 * data plane's expected identities). Each change folds into one snapshot.
 */
export function kubernetesSource(options: KubernetesSourceOptions, logger: Logger): WorkloadSource {
  const informers: { stop(): Promise<void> }[] = [];
  let timer: NodeJS.Timeout | undefined;
  return {
    kind: 'kubernetes',
    async start(sink) {
      const kc = await kubeConfig(options.kubeconfig);
      const k8s = await import('@kubernetes/client-node');
      const api = kc.makeApiClient(k8s.CoreV1Api);
      let ready = false;
      const changed = () => {
        if (!ready) return;
        clearTimeout(timer);
        timer = setTimeout(() => emit(), SETTLE_MS);
      };
      const fieldSelector = `spec.nodeName=${options.node}`;
      const watchOf = <T extends V1Pod | V1Namespace>(
        path: string,
        list: () => Promise<KubernetesListObject<T>>,
        selector?: string,
      ) => informer<T>(kc, path, list, changed, logger, selector);
      const local = await watchOf<V1Pod>(
        '/api/v1/pods',
        () => api.listPodForAllNamespaces({ fieldSelector }),
        fieldSelector,
      );
      const namespaces = await watchOf<V1Namespace>('/api/v1/namespaces', () => api.listNamespace());
      const all = await watchOf<V1Pod>('/api/v1/pods', () => api.listPodForAllNamespaces());
      informers.push(local, namespaces, all);
      const emit = () => snapshot(sink, options, local.list(), namespaces.list(), all.list());
      await Promise.all([local.start(), namespaces.start(), all.start()]);
      ready = true;
      emit();
      logger.info('watching pods', {
        node: options.node,
        optIn: `${options.label}=${AGENT_DEFAULTS.optInValue}`,
      });
    },
    async close() {
      clearTimeout(timer);
      await Promise.all(informers.map((i) => i.stop()));
    },
  };
}

function snapshot(
  sink: SourceSink,
  o: KubernetesSourceOptions,
  local: readonly V1Pod[],
  namespaces: readonly V1Namespace[],
  all: readonly V1Pod[],
): void {
  const byName = new Map(namespaces.map((n) => [n.metadata?.name, n]));
  const optIn = { label: o.label, value: AGENT_DEFAULTS.optInValue };
  const peers = podPeers(all, byName, optIn);
  sink.peers?.(peers);
  const workloads = local
    .filter(
      (pod) => pod.spec?.nodeName === o.node && optedIn(pod, byName.get(pod.metadata?.namespace), optIn),
    )
    .map(podWorkload)
    .filter((w): w is Workload => w !== undefined);
  sink.snapshot(workloads);
}
