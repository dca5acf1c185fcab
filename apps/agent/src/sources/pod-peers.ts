import type { V1Namespace, V1Pod } from '@kubernetes/client-node';
import type { PeerIdentity } from '../identity/peer-identities.js';
import { type OptIn, optedIn } from './pod-workload.js';

/** Pod phases after which the kubelet has stopped the pod: its IP may already be another's. */
const TERMINAL_PHASES = new Set(['Succeeded', 'Failed']);

/**
 * Every pod address → the identity it must present: what the data plane pins and what the Service
 * index takes an endpoint's pod from. Host-network pods and pods that have finished (their IPs are
 * free for reuse) are left out. An address two live pods claim at once (a reuse not yet seen
 * through) is dropped whatever the listing order: no identity is better than the wrong one.
 */
export function podPeers(
  pods: readonly V1Pod[],
  namespaces: ReadonlyMap<string | undefined, V1Namespace>,
  optIn: OptIn,
): Map<string, PeerIdentity> {
  const peers = new Map<string, PeerIdentity>();
  const conflicted = new Set<string>();
  for (const pod of pods) {
    if (pod.spec?.hostNetwork || !pod.metadata?.namespace) continue;
    if (TERMINAL_PHASES.has(pod.status?.phase ?? '')) continue;
    const identity: PeerIdentity = {
      namespace: pod.metadata.namespace,
      serviceAccount: pod.spec?.serviceAccountName || 'default',
      ...(pod.metadata.name ? { pod: pod.metadata.name } : {}),
      inMesh: optedIn(pod, namespaces.get(pod.metadata.namespace), optIn),
    };
    for (const { ip } of pod.status?.podIPs ?? []) {
      if (!ip || conflicted.has(ip)) continue;
      const claimed = peers.get(ip);
      if (!claimed) peers.set(ip, identity);
      else if (claimed.namespace !== identity.namespace || claimed.pod !== identity.pod) {
        peers.delete(ip);
        conflicted.add(ip);
      }
    }
  }
  return peers;
}
