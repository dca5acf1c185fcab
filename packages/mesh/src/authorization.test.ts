import { describe, expect, it } from 'vitest';
import {
  authorize,
  defaultInboundPolicy,
  defaultOutboundPolicy,
  parseAuthorizationPolicy,
} from './authorization.js';
import { parseSpiffeId, spiffeIdsFromSan } from './spiffe-id.js';

const self = { trustDomain: 'cluster.local', namespace: 'web', serviceAccount: 'api' };

describe('authorize', () => {
  it.each([
    ['spiffe://cluster.local/ns/web/sa/client', true],
    ['spiffe://cluster.local/ns/other/sa/client', false],
    ['spiffe://evil.local/ns/web/sa/client', false],
    ['https://cluster.local/ns/web/sa/client', false],
    [undefined, false],
  ])('inbound default (same trust domain and namespace): %s → %s', (peer, allowed) => {
    expect(authorize(defaultInboundPolicy(self), self, peer).allowed).toBe(allowed);
  });

  it('outbound default allows any identity of our trust domain', () => {
    expect(authorize(defaultOutboundPolicy(self), self, 'spiffe://cluster.local/ns/db/sa/pg').allowed).toBe(
      true,
    );
    expect(authorize(defaultOutboundPolicy(self), self, 'spiffe://evil.local/ns/db/sa/pg').allowed).toBe(
      false,
    );
  });

  it('applies a policy file: rules without a trust domain mean ours; an exact SPIFFE ID matches only itself', () => {
    const policy = parseAuthorizationPolicy({
      allow: [
        { namespace: 'frontend', serviceAccount: 'web' },
        { spiffeId: 'spiffe://partner.example/ns/x/sa/y', trustDomain: 'partner.example' },
      ],
    });
    expect(authorize(policy, self, 'spiffe://cluster.local/ns/frontend/sa/web').allowed).toBe(true);
    expect(authorize(policy, self, 'spiffe://cluster.local/ns/frontend/sa/other').allowed).toBe(false);
    expect(authorize(policy, self, 'spiffe://partner.example/ns/x/sa/y').allowed).toBe(true);
    expect(authorize({ allow: [] }, self, 'spiffe://cluster.local/ns/web/sa/api')).toMatchObject({
      allowed: false,
      reason: /no rule/,
    });
  });

  it('refuses a malformed policy file, naming each bad field', () => {
    expect(() => parseAuthorizationPolicy({ rules: [] })).toThrow(/expected \{"allow"/);
    expect(() =>
      parseAuthorizationPolicy({ allow: [{ namespce: 'x' }, { spiffeId: 'nope' }, 'x'] }, 'authz.yaml'),
    ).toThrow(
      /authz\.yaml: allow\[0\]\.namespce: unknown field.*allow\[1\]\.spiffeId: "nope".*allow\[2\] must be an object/,
    );
  });
});

describe('SPIFFE IDs', () => {
  it('parses workload IDs and picks them out of a subjectAltName', () => {
    expect(parseSpiffeId('spiffe://cluster.local/ns/web/sa/api')).toEqual(self);
    expect(parseSpiffeId('spiffe://cluster.local/web/api')).toBeUndefined();
    expect(spiffeIdsFromSan('DNS:api, URI:spiffe://a/ns/b/sa/c, URI:https://x')).toEqual([
      'spiffe://a/ns/b/sa/c',
    ]);
  });
});
