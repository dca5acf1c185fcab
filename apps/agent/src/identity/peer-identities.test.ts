import { describe, expect, it } from 'vitest';
import { PeerIdentities } from './peer-identities.js';

describe('PeerIdentities', () => {
  it('takes changes one address at a time: a pod found by name, an address gone takes its pod entry along', () => {
    const ids = new PeerIdentities('cluster.local', () => []);
    ids.replace(new Map([['10.0.0.1', { namespace: 'web', serviceAccount: 'api', pod: 'a' }]]));
    expect(ids.expected('10.0.0.1')).toEqual(['spiffe://cluster.local/ns/web/sa/api']);
    expect(ids.pod('web/a')).toEqual({
      address: '10.0.0.1',
      spiffeId: 'spiffe://cluster.local/ns/web/sa/api',
    });
    ids.update(new Map([['10.0.0.2', { namespace: 'web', serviceAccount: 'db', pod: 'b' }]]));
    expect(ids.expected('10.0.0.2')).toEqual(['spiffe://cluster.local/ns/web/sa/db']);
    ids.update(new Map([['10.0.0.1', undefined]]));
    expect(ids.expected('10.0.0.1')).toBeUndefined();
    expect(ids.pod('web/a')).toBeUndefined();
    expect(ids.pod('web/b')?.address).toBe('10.0.0.2');
  });
});
