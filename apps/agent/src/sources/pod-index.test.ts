import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podObject } from '../testing/kube-fixtures.js';
import { type PodChanges, PodIndex } from './pod-index.js';

const OPT_IN = { label: 'switchyard.io/capture', value: 'enabled' };
/** The index after every pod of `pods` was added, in that order. */
const indexOf = (pods: V1Pod[]) => {
  const index = new PodIndex(OPT_IN);
  for (const p of pods) index.upsertPod(p, new Set());
  return index;
};
const pod = (name: string, ip: string, phase = 'Running', serviceAccount = name, resourceVersion = '1') => {
  const p = podObject({ name, namespace: 'web', node: 'n1', ip, serviceAccount, phase }) as V1Pod;
  (p.metadata as { resourceVersion: string }).resourceVersion = resourceVersion;
  return p;
};
/** Who holds `ip`, as `pod/sa`, for each order of the list. */
const holderBothOrders = (pods: V1Pod[], ip: string) =>
  [pods, [...pods].reverse()].map((list) => {
    const owner = indexOf(list).ownerOf(ip);
    return owner ? `${owner.name}/${owner.serviceAccount}` : undefined;
  });
/** What one step changed, as `pod sa inMesh [owned addresses]`. */
const stepOf = (index: PodIndex) => (f: (c: PodChanges) => void) => {
  const changes: PodChanges = new Set();
  f(changes);
  return [...changes].map(
    (p) =>
      `${p.name} ${p.serviceAccount} ${p.inMesh} [${p.ips.filter((ip) => index.ownerOf(ip) === p).join(',')}]`,
  );
};

describe('PodIndex (every pod once: address → pod, the informer’s store)', () => {
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
    const index = indexOf([pod('a', '10.0.0.1'), pod('b', '10.0.0.1'), pod('c', '10.0.0.3')]);
    expect([...index.owned()].map(([ip, p]) => `${ip} ${p.name}`)).toEqual(['10.0.0.3 c']);
  });

  it('addresses are kept and found in lower case (IPv6)', () => {
    const index = indexOf([pod('a', 'FD00::A')]);
    expect(index.ownerOf('fd00::a')?.name).toBe('a');
    expect(index.ownerOf('FD00::A')?.name).toBe('a');
    expect([...index.owned()].map(([ip]) => ip)).toEqual(['fd00::a']);
  });

  it('add, update, delete: one record per pod, changed in place; each event says which pods it touched', () => {
    const index = new PodIndex(OPT_IN);
    const step = stepOf(index);
    expect(step((c) => index.upsertPod(pod('a', '10.0.0.1'), c))).toEqual(['a a false [10.0.0.1]']);
    const a = index.get('web', 'a');
    expect(step((c) => index.upsertPod(pod('b', '10.0.0.2'), c))).toEqual(['b b false [10.0.0.2]']);
    // The same pod again, or a newer version that changes nothing the readers see: nothing changed.
    expect(step((c) => index.upsertPod(pod('a', '10.0.0.1'), c))).toEqual([]);
    expect(step((c) => index.upsertPod(pod('a', '10.0.0.1', 'Running', 'a', '2'), c))).toEqual([]);
    expect(index.version('web', 'a')).toBe('2');
    // Its account changes: the same record, changed.
    expect(step((c) => index.upsertPod(pod('a', '10.0.0.1', 'Running', 'a-v2', '3'), c))).toEqual([
      'a a-v2 false [10.0.0.1]',
    ]);
    expect(index.get('web', 'a')).toBe(a);
    // b moves onto a's address: both lose it (contested), b its old one too.
    expect(step((c) => index.upsertPod(pod('b', '10.0.0.1'), c))).toEqual([
      'b b false []',
      'a a-v2 false []',
    ]);
    // a goes: b holds the address alone.
    expect(step((c) => index.deletePod(pod('a', '10.0.0.1'), c))).toEqual([
      'a a-v2 false []',
      'b b false [10.0.0.1]',
    ]);
    expect(index.get('web', 'a')).toBeUndefined();
    expect(index.has('web', 'a')).toBe(false);
    // Its namespace opts in: b is in the mesh now.
    expect(step((c) => index.setNamespace('web', 'enabled', c))).toEqual(['b b true [10.0.0.1]']);
    // b finishes: it claims nothing any more, but is still known (a relist must find it).
    expect(step((c) => index.upsertPod(pod('b', '10.0.0.1', 'Succeeded'), c))).toEqual(['b b true []']);
    expect([...index.owned()]).toEqual([]);
    expect(index.has('web', 'b')).toBe(true);
    // Deleting what it does not hold changes nothing.
    expect(step((c) => index.deletePod(pod('zz', '10.0.0.9'), c))).toEqual([]);
  });

  it('a pod’s own opt-in label decides before its namespace’s', () => {
    const index = new PodIndex(OPT_IN);
    const step = stepOf(index);
    const labelled = (value: string) =>
      podObject({
        name: 'p',
        namespace: 'web',
        node: 'n1',
        ip: '10.0.0.5',
        labels: { [OPT_IN.label]: value },
      }) as V1Pod;
    index.upsertPod(labelled('disabled'), new Set());
    expect(step((c) => index.setNamespace('web', 'enabled', c))).toEqual([]);
    expect(index.get('web', 'p')?.inMesh).toBe(false);
    expect(step((c) => index.upsertPod(labelled('enabled'), c))).toEqual(['p default true [10.0.0.5]']);
    expect(step((c) => index.setNamespace('web', undefined, c))).toEqual([]);
  });

  it('answers what a relist diffs: the names per namespace and their versions, nothing once deleted', () => {
    const other = podObject({ name: 'x', namespace: 'other', node: 'n2', ip: '10.0.1.1' }) as V1Pod;
    (other.metadata as { resourceVersion: string }).resourceVersion = '7';
    const index = indexOf([pod('a', '10.0.0.1'), pod('b', '10.0.0.2'), other]);
    const names = () => Object.fromEntries([...index.namespaces()].map((ns) => [ns, [...index.names(ns)]]));
    expect(names()).toEqual({ web: ['a', 'b'], other: ['x'] });
    expect(index.version('other', 'x')).toBe('7');
    expect(index.version('other', 'nobody')).toBeUndefined();
    expect(index.size).toBe(3);
    index.deletePod(other, new Set());
    expect(names()).toEqual({ web: ['a', 'b'] });
    expect([...index.names('other')]).toEqual([]);
    expect(index.size).toBe(2);
  });
});
