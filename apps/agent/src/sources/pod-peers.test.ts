import type { V1Namespace, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podObject } from '../testing/kube-fixtures.js';
import { podPeers } from './pod-peers.js';

const OPT_IN = { label: 'switchyard.io/capture', value: 'enabled' };
const NAMESPACES = new Map<string | undefined, V1Namespace>();
const pod = (name: string, ip: string, phase = 'Running', serviceAccount = name) => {
  const p = podObject({ name, namespace: 'web', node: 'n1', ip, serviceAccount }) as V1Pod;
  (p.status as { phase: string }).phase = phase;
  return p;
};
/** Who holds `ip`, as `pod/sa`, for each order of the list. */
const holderBothOrders = (pods: V1Pod[], ip: string) =>
  [pods, [...pods].reverse()].map((list) => {
    const peer = podPeers(list, NAMESPACES, OPT_IN).get(ip);
    return peer ? `${peer.pod}/${peer.serviceAccount}` : undefined;
  });

describe('podPeers (pod address → identity)', () => {
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
    const peers = podPeers(
      [pod('a', '10.0.0.1'), pod('b', '10.0.0.1'), pod('c', '10.0.0.3')],
      NAMESPACES,
      OPT_IN,
    );
    expect([...peers.keys()]).toEqual(['10.0.0.3']);
  });
});
