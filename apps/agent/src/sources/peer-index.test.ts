import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podObject } from '../testing/kube-fixtures.js';
import { type PeerChanges, PeerIndex } from './peer-index.js';

const OPT_IN = { label: 'switchyard.io/capture', value: 'enabled' };
/** The index after every pod of `pods` was added, in that order. */
const indexOf = (pods: V1Pod[]) => {
  const index = new PeerIndex(OPT_IN);
  for (const p of pods) index.upsertPod(p, new Map());
  return index;
};
const pod = (name: string, ip: string, phase = 'Running', serviceAccount = name) => {
  const p = podObject({ name, namespace: 'web', node: 'n1', ip, serviceAccount }) as V1Pod;
  (p.status as { phase: string }).phase = phase;
  return p;
};
/** Who holds `ip`, as `pod/sa`, for each order of the list. */
const holderBothOrders = (pods: V1Pod[], ip: string) =>
  [pods, [...pods].reverse()].map((list) => {
    const peer = indexOf(list).peers.get(ip);
    return peer ? `${peer.pod}/${peer.serviceAccount}` : undefined;
  });

describe('PeerIndex (pod address → identity)', () => {
  it.each([
    ['one running pod holds its address', [pod('a', '10.0.0.1')], ['a/a', 'a/a']],
    [
      'a finished pod (Succeeded) beside the running one reusing its IP: the running one, either order',
      [pod('old', '10.0.0.1', 'Succeeded'), pod('new', '10.0.0.1')],
      ['new/new', 'new/new'],
    ],
    [
      'a failed pod beside the running one reusing its IP: the running one, either order',
      [pod('old', '10.0.0.1', 'Failed'), pod('new', '10.0.0.1')],
      ['new/new', 'new/new'],
    ],
    ['a finished pod alone holds nothing', [pod('old', '10.0.0.1', 'Succeeded')], [undefined, undefined]],
    [
      'two live pods claiming one IP: dropped, either order',
      [pod('a', '10.0.0.1'), pod('b', '10.0.0.1')],
      [undefined, undefined],
    ],
    [
      'three live pods claiming one IP: still dropped',
      [pod('a', '10.0.0.1'), pod('b', '10.0.0.1'), pod('c', '10.0.0.1')],
      [undefined, undefined],
    ],
    [
      'a pending pod counts as live',
      [pod('a', '10.0.0.1', 'Pending'), pod('b', '10.0.0.1')],
      [undefined, undefined],
    ],
  ])('%s', (_name, pods, expected) => {
    expect(holderBothOrders(pods, '10.0.0.1')).toEqual(expected);
  });

  it('a conflict drops only the contested address', () => {
    const { peers } = indexOf([pod('a', '10.0.0.1'), pod('b', '10.0.0.1'), pod('c', '10.0.0.3')]);
    expect([...peers.keys()]).toEqual(['10.0.0.3']);
  });

  it('each event says which addresses changed, and only those', () => {
    const index = new PeerIndex(OPT_IN);
    const step = (f: (c: PeerChanges) => void) => {
      const changes: PeerChanges = new Map();
      f(changes);
      return [...changes].map(([ip, p]) => `${ip} ${p ? `${p.pod}/${p.serviceAccount}/${p.inMesh}` : '-'}`);
    };
    expect(step((c) => index.upsertPod(pod('a', '10.0.0.1'), c))).toEqual(['10.0.0.1 a/a/false']);
    expect(step((c) => index.upsertPod(pod('b', '10.0.0.2'), c))).toEqual(['10.0.0.2 b/b/false']);
    // The same pod again: nothing changed.
    expect(step((c) => index.upsertPod(pod('a', '10.0.0.1'), c))).toEqual([]);
    // b moves onto a's address: both contested addresses change.
    expect(step((c) => index.upsertPod(pod('b', '10.0.0.1'), c))).toEqual(['10.0.0.2 -', '10.0.0.1 -']);
    // a goes: b holds the address alone.
    expect(step((c) => index.deletePod(pod('a', '10.0.0.1'), c))).toEqual(['10.0.0.1 b/b/false']);
    // Its namespace opts in: its address's identity changes (in the mesh now).
    expect(step((c) => index.setNamespace('web', 'enabled', c))).toEqual(['10.0.0.1 b/b/true']);
    // b finishes: it claims nothing any more.
    expect(step((c) => index.upsertPod(pod('b', '10.0.0.1', 'Succeeded'), c))).toEqual(['10.0.0.1 -']);
    expect(index.peers.size).toBe(0);
  });
});
