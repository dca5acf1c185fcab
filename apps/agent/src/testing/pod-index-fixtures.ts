import type { V1Pod } from '@kubernetes/client-node';
import { type PodChanges, PodIndex } from '../sources/pod-index.js';
import { podObject } from './kube-fixtures.js';

/** A pod as tests state it: who holds an address, and whether it is in the mesh (by its own label). */
export interface TestPod {
  namespace: string;
  pod: string;
  serviceAccount: string;
  inMesh?: boolean;
}

const OPT_IN = { label: 'switchyard.io/capture', value: 'enabled' };

/** The pod object for `who` holding `ip`. */
export function testPod(ip: string, who: TestPod): V1Pod {
  return podObject({
    name: who.pod,
    namespace: who.namespace,
    node: 'n1',
    ip,
    serviceAccount: who.serviceAccount,
    labels: { [OPT_IN.label]: who.inMesh ? OPT_IN.value : 'disabled' },
  }) as V1Pod;
}

/** A pod index holding one pod per entry (address → who). */
export function podIndexOf(pods: Iterable<[string, TestPod]>): PodIndex {
  const index = new PodIndex(OPT_IN);
  for (const [ip, who] of pods) index.upsertPod(testPod(ip, who), new Set());
  return index;
}

/** Adds or changes one pod (`who` holding `ip`), or deletes it (`ip` undefined); the pods it touched. */
export function changePod(index: PodIndex, who: TestPod, ip: string | undefined): PodChanges {
  const changes: PodChanges = new Set();
  if (ip === undefined) index.deletePod(testPod('', who), changes);
  else index.upsertPod(testPod(ip, who), changes);
  return changes;
}
