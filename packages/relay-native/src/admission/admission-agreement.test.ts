// The engine's admission table against the data plane's one server check: for every case the
// table decides, it decides as `checkServerIdentity` does (same verdict, same code).
import {
  authorizeInbound,
  checkServerIdentity,
  type IdentityFallback,
  staticIdentities,
} from '@switchyard/dataplane';
import { compileInboundPolicy, compileServerCheck } from '@switchyard/dataplane/carrier';
import { type AuthorizationPolicy, parseSpiffeId, type SpiffeId } from '@switchyard/mesh';
import { afterAll, describe, expect, it } from 'vitest';
import { createRelayEngine } from '../relay-engine.js';

const SELF = parseSpiffeId('spiffe://cluster.local/ns/web/sa/client') as SpiffeId;
const ADDRESS = '10.0.0.7';
const API = 'spiffe://cluster.local/ns/api/sa/server';
const long = (n: number) => 'a'.repeat(n);

const POLICIES: Record<string, AuthorizationPolicy | undefined> = {
  default: undefined,
  'namespace api': { allow: [{ namespace: 'api' }] },
  'exact id': { allow: [{ spiffeId: API }] },
  'other domain': { allow: [{ trustDomain: 'partner.example', serviceAccount: 'server' }] },
  'two rules': { allow: [{ namespace: 'db' }, { namespace: 'api', serviceAccount: 'server' }] },
  'empty rule (our domain)': { allow: [{}] },
  'allow nothing': { allow: [] },
  'case differs': { allow: [{ namespace: 'API' }] },
};

const RESOLVERS: Record<string, Record<string, string[]> | undefined> = {
  none: undefined,
  'expects api': { [ADDRESS]: [API] },
  'expects two': { [ADDRESS]: ['spiffe://cluster.local/ns/db/sa/x', API] },
  'expects nothing': { [ADDRESS]: [] },
  'knows another address': { '10.0.0.8': [API] },
};

const PEERS = [
  API,
  'spiffe://cluster.local/ns/db/sa/x',
  'spiffe://cluster.local/ns/API/sa/server',
  'spiffe://partner.example/ns/api/sa/server',
  'spiffe://Cluster.local/ns/api/sa/server', // upper case is not a trust domain
  'spiffe://cluster.local/ns/api/sa/server/',
  'spiffe://cluster.local/ns/api/sa/server/extra',
  'spiffe://cluster.local/ns//sa/server',
  'spiffe:///ns/api/sa/server',
  'spiffe://cluster.local/ns/api/sa/',
  'spiffe://cluster.local/ns/api/sax/server',
  'spiffe://cluster.local/ns/api',
  'spiffe://cluster.local/ns/a b/sa/server',
  'spiffe://cluster.local/ns/ä/sa/server',
  'spiffe://cluster.local/ns/api/sa/server\n',
  'SPIFFE://cluster.local/ns/api/sa/server',
  `spiffe://cluster.local/ns/${long(253)}/sa/server`,
  `spiffe://cluster.local/ns/${long(254)}/sa/server`,
  `spiffe://${long(255)}/ns/api/sa/server`,
  `spiffe://${long(256)}/ns/api/sa/server`,
  'spiffe://cluster.local/ns/api/sa/ser_v-e.r',
];

describe('the admission table agrees with the server check', () => {
  const engine = createRelayEngine({ threads: 1 });
  afterAll(() => engine.close());

  const cases = Object.entries(POLICIES).flatMap(([policyName, authorization]) =>
    Object.entries(RESOLVERS).flatMap(([resolverName, map]) =>
      (['refuse', 'trust-domain'] as IdentityFallback[]).map((fallback) => ({
        policyName,
        authorization,
        resolverName,
        map,
        fallback,
      })),
    ),
  );

  it(`decides ${cases.length * PEERS.length} cases (policy × resolver × fallback × peer) as JavaScript does`, () => {
    const slot = engine.admission.allocate();
    const disagreements: string[] = [];
    const codes = new Set<string>();
    for (const { policyName, authorization, resolverName, map, fallback } of cases) {
      const resolver = map ? staticIdentities(map) : undefined;
      const facts = { address: ADDRESS, resolver, fallback, self: SELF, authorization };
      const compiled = compileServerCheck(facts);
      expect(engine.admission.set(slot, compiled)).toBe(true);
      const question = {
        slot,
        pinned: true,
        expected: compiled.expected,
        trustDomainFallback: compiled.trustDomainFallback,
      };
      for (const peer of PEERS) {
        const js = checkServerIdentity({ ...facts, presented: [peer] });
        const native = engine.admissionDecideForTesting(question, peer);
        codes.add(native.verdict === 'accepted' ? 'accepted' : native.code);
        const same =
          native.verdict === (js.allowed ? 'accepted' : 'refused') && native.code === (js.code ?? '');
        if (!same)
          disagreements.push(
            `${policyName} / ${resolverName} / ${fallback} / ${JSON.stringify(peer).slice(0, 60)}: JavaScript ${js.allowed} ${js.code ?? ''}, engine ${native.verdict} ${native.code}`,
          );
      }
    }
    expect(disagreements).toEqual([]);
    // every outcome the check has occurs in the table of cases
    expect([...codes].sort()).toEqual(['accepted', 'policy', 'unexpected-identity', 'unknown-destination']);
  });

  it(`decides ${Object.keys(POLICIES).length * 2 * PEERS.length} inbound cases (policy × our identity × peer) as authorizeInbound does`, () => {
    const slot = engine.admission.allocate();
    const disagreements: string[] = [];
    const verdicts = new Set<string>();
    for (const [policyName, authorization] of Object.entries(POLICIES))
      for (const self of ['spiffe://cluster.local/ns/api/sa/server', 'spiffe://partner.example/ns/db/sa/x']) {
        const policy = authorization ? { port: 15006, authorization } : undefined;
        const compiled = compileInboundPolicy(policy, self);
        if (!compiled) throw new Error(`${self} did not compile`);
        expect(engine.admission.set(slot, compiled)).toBe(true);
        for (const peer of PEERS) {
          const js = authorizeInbound({ policy, self, peer });
          const native = engine.admissionDecideForTesting(
            { slot, pinned: false, trustDomainFallback: false },
            peer,
          );
          verdicts.add(native.verdict);
          if (native.verdict !== (js.allowed ? 'accepted' : 'refused') || native.code !== (js.code ?? ''))
            disagreements.push(
              `${policyName} / ${self} / ${JSON.stringify(peer).slice(0, 60)}: ${js.allowed} vs ${native.verdict}`,
            );
        }
      }
    expect(disagreements).toEqual([]);
    expect([...verdicts].sort()).toEqual(['accepted', 'refused']);
  });

  it('asks JavaScript for a slot the table does not hold', () => {
    const slot = engine.admission.allocate();
    expect(engine.admissionDecideForTesting({ slot, pinned: true, trustDomainFallback: true }, API)).toEqual({
      verdict: 'ask',
      code: '',
    });
  });

  it('keeps no slot for a policy it cannot hold exactly, so JavaScript decides those peers', () => {
    const slot = engine.admission.allocate();
    expect(
      engine.admission.set(slot, { selfTrustDomain: 'cluster.local', rules: [{ namespace: 'a\nb' }] }),
    ).toBe(false);
    expect(
      engine.admissionDecideForTesting({ slot, pinned: false, trustDomainFallback: false }, API).verdict,
    ).toBe('ask');
  });
});
