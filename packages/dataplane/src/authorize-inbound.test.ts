import { describe, expect, it } from 'vitest';
import { authorizeInbound } from './authorize-inbound.js';

const SELF = 'spiffe://cluster.local/ns/web/sa/api';

describe('authorizeInbound', () => {
  it.each([
    [
      'a peer of our namespace, default policy',
      undefined,
      'spiffe://cluster.local/ns/web/sa/client',
      true,
      undefined,
    ],
    [
      'a peer of another namespace, default policy',
      undefined,
      'spiffe://cluster.local/ns/evil/sa/x',
      false,
      'policy',
    ],
    ['a peer of another trust domain', undefined, 'spiffe://other.local/ns/web/sa/client', false, 'policy'],
    [
      'a peer the policy names',
      { allow: [{ namespace: 'evil' }] },
      'spiffe://cluster.local/ns/evil/sa/x',
      true,
      undefined,
    ],
    ['an empty policy', { allow: [] }, 'spiffe://cluster.local/ns/web/sa/client', false, 'policy'],
    ['no identity at all', undefined, undefined, false, 'identity'],
  ] as const)('%s', (_title, authorization, peer, allowed, code) => {
    const decision = authorizeInbound({
      policy: authorization ? { authorization: { allow: [...authorization.allow] } } : undefined,
      self: SELF,
      peer,
    });
    expect(decision.allowed).toBe(allowed);
    expect(decision.code).toBe(code);
    expect(decision.reason).not.toBe('');
  });

  it('says why a peer has no identity when the carrier knows', () => {
    expect(
      authorizeInbound({ policy: undefined, self: SELF, peer: undefined, identityError: 'two SPIFFE IDs' }),
    ).toEqual({
      allowed: false,
      code: 'identity',
      reason: 'two SPIFFE IDs',
    });
  });
});
