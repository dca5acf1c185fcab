import { describe, expect, it } from 'vitest';
import { changePod, podIndexOf } from '../testing/pod-index-fixtures.js';
import { PeerIdentities } from './peer-identities.js';

describe('PeerIdentities', () => {
  it('reads the source’s pod index as it changes: a pod found by name, an address gone takes its pod along', () => {
    const a = { namespace: 'web', serviceAccount: 'api', pod: 'a' };
    const b = { namespace: 'web', serviceAccount: 'db', pod: 'b' };
    const pods = podIndexOf([['10.0.0.1', a]]);
    const ids = new PeerIdentities('cluster.local', () => [
      { addresses: ['10.0.9.9'], spiffeId: 'spiffe://cluster.local/ns/local/sa/me' },
    ]);
    expect(ids.expected('10.0.0.1')).toBeUndefined();
    ids.follow(pods);
    expect(ids.expected('10.0.0.1')).toEqual(['spiffe://cluster.local/ns/web/sa/api']);
    expect(ids.pod('web/a')).toEqual({
      address: '10.0.0.1',
      spiffeId: 'spiffe://cluster.local/ns/web/sa/api',
    });
    changePod(pods, b, '10.0.0.2');
    expect(ids.expected('10.0.0.2')).toEqual(['spiffe://cluster.local/ns/web/sa/db']);
    changePod(pods, a, undefined);
    expect(ids.expected('10.0.0.1')).toBeUndefined();
    expect(ids.pod('web/a')).toBeUndefined();
    expect(ids.pod('web/b')?.address).toBe('10.0.0.2');
    // Two pods on one address: neither identity is pinned for it, and the pod has no address to give.
    changePod(pods, a, '10.0.0.2');
    expect(ids.expected('10.0.0.2')).toBeUndefined();
    expect(ids.pod('web/b')).toBeUndefined();
    // This node's workloads count too, IPv6 in any case.
    expect(ids.expected('10.0.9.9')).toEqual(['spiffe://cluster.local/ns/local/sa/me']);
    expect(ids.pinned()).toEqual({ '10.0.9.9': 'spiffe://cluster.local/ns/local/sa/me' });
    changePod(pods, { ...a, pod: 'v6' }, 'FD00::7');
    expect(ids.expected('fd00::7')).toEqual(['spiffe://cluster.local/ns/web/sa/api']);
    expect(ids.pinned()['fd00::7']).toBe('spiffe://cluster.local/ns/web/sa/api');
  });
});
