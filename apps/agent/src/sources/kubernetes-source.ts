import type { KubeConfig, V1Namespace, V1Pod } from '@kubernetes/client-node';
import type { Logger } from '@switchyard/dataplane';
import type { AgentConfig } from '../config/agent-config.js';
import { AGENT_DEFAULTS } from '../config/defaults.js';
import { kubeConfig } from '../kubernetes/kube-config.js';
import { kubeGet } from '../kubernetes/kube-get.js';
import { type InformerEvent, informer } from '../kubernetes/kube-informer.js';
import { type PodChanges, PodIndex } from './pod-index.js';
import { localPod, namespaceLabel, peerPod } from './pod-transforms.js';
import { announcedPodWorkload, optedIn, podWorkload } from './pod-workload.js';
import type { Announcement, SourceSink, Workload, WorkloadSource } from './workload.js';

/** Options of {@link kubernetesSource}. */
export interface KubernetesSourceOptions {
  /** This node's name: only pods with this `spec.nodeName` are the agent's workloads. */
  node: string;
  /** The opt-in label, on a pod or its namespace (value `enabled`). */
  label: string;
  /** A kubeconfig file; default the in-cluster service account. */
  kubeconfig?: string;
  /** The backoff of a failed list or watch (the agent's `retry`). Default `AGENT_DEFAULTS.retry`. */
  retry?: AgentConfig['retry'];
}

/** Events of a burst are folded into one snapshot after this long, ms. */
const SETTLE_MS = 20;

/**
 * The `kubernetes` source: informers on this node's pods (`spec.nodeName` field selector), on
 * namespaces (for the opt-in label), and on every pod, kept in one {@link PodIndex} (no informer
 * cache besides it) that the identities and Service endpoints read. Each change folds into one
 * snapshot.
 */
export function kubernetesSource(options: KubernetesSourceOptions, logger: Logger): WorkloadSource {
  const informers: { stop(): Promise<void> }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let lookup: PodLookup | undefined;
  return {
    kind: 'kubernetes',
    async announce(a) {
      if (a.kind !== 'pod' || !lookup) return undefined;
      const { pod, namespace } = await lookup(a);
      if (!pod || !optedIn(pod, namespace, { label: options.label, value: AGENT_DEFAULTS.optInValue }))
        return undefined;
      return announcedPodWorkload(pod, a.network, a.ips);
    },
    async start(sink) {
      const kc = await kubeConfig(options.kubeconfig);
      let ready = false;
      const changed = () => {
        if (!ready) return;
        clearTimeout(timer);
        timer = setTimeout(() => emit(), SETTLE_MS);
      };
      // Every pod once, kept per event; the pods changed since the last snapshot.
      const index = new PodIndex({ label: options.label, value: AGENT_DEFAULTS.optInValue });
      let pending: PodChanges = new Set();
      let first = true;
      const fieldSelector = `spec.nodeName=${options.node}`;
      const watchOf = <T extends V1Pod | V1Namespace>(
        path: string,
        transform: (o: T) => T,
        selector?: string,
        onEvent?: (event: InformerEvent, o: T) => void,
        store?: PodIndex,
      ) =>
        informer<T>(
          kc,
          path,
          (event, o) => {
            onEvent?.(event, o);
            changed();
          },
          logger,
          selector,
          { transform, ...(store ? { store } : {}), ...(options.retry ? { retry: options.retry } : {}) },
        );
      const local = await watchOf<V1Pod>('/api/v1/pods', localPod, fieldSelector);
      const namespaces = await watchOf<V1Namespace>(
        '/api/v1/namespaces',
        (n) => namespaceLabel(n, options.label),
        undefined,
        (event, n) =>
          index.setNamespace(
            n.metadata?.name ?? '',
            event === 'delete' ? undefined : n.metadata?.labels?.[options.label],
            pending,
          ),
      );
      const all = await watchOf<V1Pod>(
        '/api/v1/pods',
        (p) => peerPod(p, options.label),
        undefined,
        (event, p) => (event === 'delete' ? index.deletePod(p, pending) : index.upsertPod(p, pending)),
        index,
      );
      informers.push(local, namespaces, all);
      lookup = podLookup(kc, local.list, namespaces.list);
      const emit = () => {
        const changes = pending;
        pending = new Set();
        // The index once; then only the pods that changed.
        if (first) sink.pods?.(index);
        else if (changes.size > 0) sink.podsChanged?.(changes);
        first = false;
        snapshot(sink, options, local.list(), namespaces.list());
      };
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
): void {
  const byName = new Map(namespaces.map((n) => [n.metadata?.name, n]));
  const optIn = { label: o.label, value: AGENT_DEFAULTS.optInValue };
  const workloads = local
    .filter(
      (pod) => pod.spec?.nodeName === o.node && optedIn(pod, byName.get(pod.metadata?.namespace), optIn),
    )
    .map(podWorkload)
    .filter((w): w is Workload => w !== undefined);
  sink.snapshot(workloads);
}

type PodLookup = (
  a: Extract<Announcement, { kind: 'pod' }>,
) => Promise<{ pod: V1Pod | undefined; namespace: V1Namespace | undefined }>;

/**
 * Finds an announced pod and its namespace: from the watches, or — a pod so new the watch has
 * not delivered it, or an older pod of the same name still in it — from the API server.
 */
function podLookup(
  kc: KubeConfig,
  pods: () => readonly V1Pod[],
  namespaces: () => readonly V1Namespace[],
): PodLookup {
  const notFound = (error: unknown) => {
    if ((error as { code?: number }).code === 404) return undefined;
    throw error;
  };
  return async (a) => {
    const cached = pods().find((p) => p.metadata?.namespace === a.namespace && p.metadata?.name === a.name);
    const pod =
      cached && (!a.uid || cached.metadata?.uid === a.uid)
        ? cached
        : await kubeGet<V1Pod>(
            kc,
            `/api/v1/namespaces/${encodeURIComponent(a.namespace)}/pods/${encodeURIComponent(a.name)}`,
          ).catch(notFound);
    const namespace =
      namespaces().find((n) => n.metadata?.name === a.namespace) ??
      (await kubeGet<V1Namespace>(kc, `/api/v1/namespaces/${encodeURIComponent(a.namespace)}`).catch(
        notFound,
      ));
    return { pod: a.uid && pod?.metadata?.uid !== a.uid ? undefined : pod, namespace };
  };
}
