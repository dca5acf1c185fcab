import { silentLogger } from '@switchyard/dataplane';
import { describe, expect, it } from 'vitest';
import { decide, type PolicyConnection } from './evaluate.js';
import { PolicyStore } from './policy-store.js';

/** The workload under test: web/api, labelled app=api, listening on 10.0.0.9. */
const API = { namespace: 'web', labels: { app: 'api' } };
const conn = (peer: string | undefined, source: string, port = 8080): PolicyConnection => ({
  source,
  destination: { address: '10.0.0.9', port },
  ...(peer ? { peer } : {}),
});
/** A mesh client in web, one from another namespace, and plain TCP from outside the mesh. */
const A = conn('spiffe://cluster.local/ns/web/sa/client', '10.0.0.5');
const B = conn('spiffe://cluster.local/ns/other/sa/evil', '10.1.0.5');
const PLAIN = conn(undefined, '192.168.1.5');

type Spec = Record<string, unknown>;
const ap = (name: string, spec: Spec, namespace = 'web', annotations?: Record<string, string>) => ({
  kind: 'AuthorizationPolicy' as const,
  object: {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace, ...(annotations ? { annotations } : {}) },
    spec,
  },
});
const allowFrom = (source: Spec): Spec => ({ action: 'ALLOW', rules: [{ from: [{ source }] }] });
const denyFrom = (source: Spec): Spec => ({ action: 'DENY', rules: [{ from: [{ source }] }] });
const to = (operation: Spec): Spec => ({ to: [{ operation }] });

function verdicts(objects: ReturnType<typeof ap>[], defaultMtls: 'STRICT' | 'PERMISSIVE' = 'PERMISSIVE') {
  const store = new PolicyStore({ rootNamespace: 'istio-system', defaultMtls, logger: silentLogger });
  store.replace(objects);
  const policies = store.forWorkload('web/api', API);
  return [A, B, PLAIN].map((c) => decide(policies, c).allowed);
}

// [client in web, client in other, plain TCP] — allowed?
const ROWS: [string, ReturnType<typeof ap>[], boolean[]][] = [
  ['no policy: allowed (ambient default)', [], [true, true, true]],
  [
    'ALLOW principals',
    [ap('p', allowFrom({ principals: ['cluster.local/ns/web/sa/client'] }))],
    [true, false, false],
  ],
  [
    'ALLOW principals "*" (any identity, not plain TCP)',
    [ap('p', allowFrom({ principals: ['*'] }))],
    [true, true, false],
  ],
  [
    'ALLOW principals prefix',
    [ap('p', allowFrom({ principals: ['cluster.local/ns/web/*'] }))],
    [true, false, false],
  ],
  ['ALLOW principals suffix', [ap('p', allowFrom({ principals: ['*/sa/evil'] }))], [false, true, false]],
  [
    'ALLOW notPrincipals',
    [ap('p', allowFrom({ notPrincipals: ['cluster.local/ns/web/*'] }))],
    [false, true, true],
  ],
  ['ALLOW namespaces', [ap('p', allowFrom({ namespaces: ['web'] }))], [true, false, false]],
  ['ALLOW notNamespaces', [ap('p', allowFrom({ notNamespaces: ['web'] }))], [false, true, true]],
  [
    'ALLOW serviceAccounts (policy namespace)',
    [ap('p', allowFrom({ serviceAccounts: ['client'] }))],
    [true, false, false],
  ],
  [
    'ALLOW serviceAccounts ns/sa',
    [ap('p', allowFrom({ serviceAccounts: ['other/evil'] }))],
    [false, true, false],
  ],
  ['ALLOW ipBlocks', [ap('p', allowFrom({ ipBlocks: ['10.0.0.0/24'] }))], [true, false, false]],
  ['ALLOW ipBlocks bare address', [ap('p', allowFrom({ ipBlocks: ['192.168.1.5'] }))], [false, false, true]],
  ['ALLOW notIpBlocks', [ap('p', allowFrom({ notIpBlocks: ['10.0.0.0/24'] }))], [false, true, true]],
  [
    'DENY on the port',
    [ap('p', { action: 'DENY', rules: [to({ ports: ['8080'] })] })],
    [false, false, false],
  ],
  [
    'DENY on another port',
    [ap('p', { action: 'DENY', rules: [to({ ports: ['9090'] })] })],
    [true, true, true],
  ],
  ['ALLOW notPorts the port', [ap('p', { rules: [to({ notPorts: ['8080'] })] })], [false, false, false]],
  [
    'ALLOW a named port (not a number: left out, matches nothing)',
    [ap('p', { rules: [to({ ports: ['http'] })] })],
    [false, false, false],
  ],
  [
    'DENY beats ALLOW',
    [ap('a', { rules: [{}] }), ap('d', denyFrom({ namespaces: ['other'] }))],
    [true, false, true],
  ],
  ['ALLOW with no rules allows nothing', [ap('p', {})], [false, false, false]],
  ['ALLOW with one empty rule allows all', [ap('p', { rules: [{}] })], [true, true, true]],
  ['DENY with no rules denies nothing', [ap('p', { action: 'DENY' })], [true, true, true]],
  [
    'selector matching the workload',
    [ap('p', { selector: { matchLabels: { app: 'api' } }, action: 'DENY', rules: [{}] })],
    [false, false, false],
  ],
  [
    'selector not matching',
    [ap('p', { selector: { matchLabels: { app: 'db' } }, action: 'DENY', rules: [{}] })],
    [true, true, true],
  ],
  [
    'a policy of another namespace does not apply',
    [ap('p', { action: 'DENY', rules: [{}] }, 'other')],
    [true, true, true],
  ],
  [
    'root namespace: applies everywhere',
    [ap('p', denyFrom({ namespaces: ['other'] }), 'istio-system')],
    [true, false, true],
  ],
  [
    'root namespace with a selector',
    [ap('p', { selector: { matchLabels: { app: 'api' } }, action: 'DENY', rules: [{}] }, 'istio-system')],
    [false, false, false],
  ],
  [
    'ALLOW rule with an HTTP method: left out',
    [
      ap('p', {
        rules: [{ from: [{ source: { principals: ['*'] } }], to: [{ operation: { methods: ['GET'] } }] }],
      }),
    ],
    [false, false, false],
  ],
  [
    'ALLOW: the L7 rule is left out, the other kept',
    [
      ap('p', {
        rules: [{ to: [{ operation: { paths: ['/x'] } }] }, { from: [{ source: { namespaces: ['web'] } }] }],
      }),
    ],
    [true, false, false],
  ],
  [
    'DENY with only HTTP methods never fires',
    [ap('p', { action: 'DENY', rules: [to({ methods: ['GET'] })] })],
    [true, true, true],
  ],
  [
    'DENY with a port and a method: the port alone denies',
    [ap('p', { action: 'DENY', rules: [to({ ports: ['8080'], methods: ['GET'] })] })],
    [false, false, false],
  ],
  [
    'DENY remoteIpBlocks (HTTP at L4) never fires',
    [ap('p', denyFrom({ remoteIpBlocks: ['0.0.0.0/0'] }))],
    [true, true, true],
  ],
  [
    'ALLOW remoteIpBlocks: left out',
    [ap('p', allowFrom({ remoteIpBlocks: ['0.0.0.0/0'] }))],
    [false, false, false],
  ],
  [
    'ALLOW requestPrincipals: left out',
    [ap('p', allowFrom({ requestPrincipals: ['*'] }))],
    [false, false, false],
  ],
  [
    'when source.principal',
    [
      ap('p', {
        rules: [{ when: [{ key: 'source.principal', values: ['cluster.local/ns/web/sa/client'] }] }],
      }),
    ],
    [true, false, false],
  ],
  [
    'when source.namespace notValues',
    [ap('p', { rules: [{ when: [{ key: 'source.namespace', notValues: ['web'] }] }] })],
    [false, true, true],
  ],
  [
    'when source.ip',
    [ap('p', { rules: [{ when: [{ key: 'source.ip', values: ['10.1.0.0/16'] }] }] })],
    [false, true, false],
  ],
  [
    'when destination.port',
    [ap('p', { action: 'DENY', rules: [{ when: [{ key: 'destination.port', values: ['8080'] }] }] })],
    [false, false, false],
  ],
  [
    'when destination.ip',
    [ap('p', { rules: [{ when: [{ key: 'destination.ip', values: ['10.0.0.9'] }] }] })],
    [true, true, true],
  ],
  [
    'ALLOW when on an HTTP key: left out',
    [ap('p', { rules: [{ when: [{ key: 'request.headers[x]', values: ['1'] }] }] })],
    [false, false, false],
  ],
  [
    'DENY when on an HTTP key never fires',
    [ap('p', { action: 'DENY', rules: [{ when: [{ key: 'request.headers[x]', values: ['1'] }] }] })],
    [true, true, true],
  ],
  ['AUDIT never decides', [ap('p', { action: 'AUDIT', rules: [{}] })], [true, true, true]],
  [
    'CUSTOM is not enforced',
    [ap('p', { action: 'CUSTOM', provider: { name: 'ext' }, rules: [{}] })],
    [true, true, true],
  ],
  [
    'targetRefs are for waypoints',
    [ap('p', { targetRefs: [{ kind: 'Service', name: 'api' }], action: 'DENY', rules: [{}] })],
    [true, true, true],
  ],
  [
    'dry-run DENY is not enforced',
    [ap('p', { action: 'DENY', rules: [{}] }, 'web', { 'istio.io/dry-run': 'true' })],
    [true, true, true],
  ],
  [
    'an unreadable ALLOW fails closed',
    [ap('p', { rules: [{ from: [{ source: { principals: 'x' } }] }] })],
    [false, false, false],
  ],
  [
    'an unreadable DENY fails closed',
    [ap('p', { action: 'DENY', rules: [{ to: [{ operation: { portz: ['1'] } }] }] })],
    [false, false, false],
  ],
];

describe('AuthorizationPolicy at L4, as ztunnel enforces it', () => {
  it.each(ROWS)('%s', (_name, objects, expected) => {
    expect(verdicts(objects)).toEqual(expected);
  });

  it('says which policy decided and counts AUDIT and dry-run matches', () => {
    const store = new PolicyStore({
      rootNamespace: 'istio-system',
      defaultMtls: 'PERMISSIVE',
      logger: silentLogger,
    });
    store.replace([
      ap('only-web', allowFrom({ namespaces: ['web'] })),
      ap('watch', { action: 'AUDIT', rules: [{}] }),
      ap('try', { action: 'DENY', rules: [{}] }, 'web', { 'istio.io/dry-run': 'true' }),
    ]);
    const policies = store.forWorkload('web/api', API);
    expect(decide(policies, A)).toMatchObject({
      allowed: true,
      policy: 'web/only-web',
      audited: ['web/watch'],
      dryRun: [{ policy: 'web/try', action: 'DENY' }],
    });
    expect(decide(policies, B)).toMatchObject({
      allowed: false,
      reason: 'no ALLOW policy matches (web/only-web apply)',
    });
  });

  it('a changed or removed policy takes effect at once (the per-workload cache is dropped)', () => {
    const store = new PolicyStore({
      rootNamespace: 'istio-system',
      defaultMtls: 'PERMISSIVE',
      logger: silentLogger,
    });
    store.replace([]);
    expect(decide(store.forWorkload('web/api', API), A).allowed).toBe(true);
    store.upsert('AuthorizationPolicy', ap('d', { action: 'DENY', rules: [{}] }).object);
    expect(decide(store.forWorkload('web/api', API), A)).toMatchObject({ allowed: false, policy: 'web/d' });
    store.remove('AuthorizationPolicy', 'web/d');
    expect(decide(store.forWorkload('web/api', API), A).allowed).toBe(true);
  });
});

const pa = (name: string, spec: Spec, namespace = 'web', created = '2026-01-01T00:00:00Z') => ({
  kind: 'PeerAuthentication' as const,
  object: { metadata: { name, namespace, creationTimestamp: created }, spec },
});
const strictOn = (
  port: number,
  objects: ReturnType<typeof pa>[],
  fallback: 'STRICT' | 'PERMISSIVE' = 'PERMISSIVE',
) => {
  const store = new PolicyStore({
    rootNamespace: 'istio-system',
    defaultMtls: fallback,
    logger: silentLogger,
  });
  store.replace(objects);
  const policies = store.forWorkload('web/api', API);
  return {
    plain: decide(policies, conn(undefined, '192.168.1.5', port)).allowed,
    mesh: decide(policies, conn(A.peer, A.source, port)).allowed,
  };
};
const mode = (m: string) => ({ mtls: { mode: m } });
const WL = { selector: { matchLabels: { app: 'api' } } };

// Plain TCP from outside the mesh to port 8080 — allowed?; a mesh peer is always allowed by PeerAuthentication.
const PA_ROWS: [string, ReturnType<typeof pa>[], number, boolean, ('STRICT' | 'PERMISSIVE')?][] = [
  ['nothing set, default PERMISSIVE', [], 8080, true],
  ['nothing set, default STRICT (the agent config)', [], 8080, false, 'STRICT'],
  ['mesh STRICT', [pa('m', mode('STRICT'), 'istio-system')], 8080, false],
  [
    'mesh STRICT, namespace PERMISSIVE',
    [pa('m', mode('STRICT'), 'istio-system'), pa('n', mode('PERMISSIVE'))],
    8080,
    true,
  ],
  [
    'namespace UNSET inherits mesh STRICT',
    [pa('m', mode('STRICT'), 'istio-system'), pa('n', {})],
    8080,
    false,
  ],
  ['namespace DISABLE counts as PERMISSIVE', [pa('n', mode('DISABLE'))], 8080, true, 'STRICT'],
  [
    'workload STRICT under namespace PERMISSIVE',
    [pa('n', mode('PERMISSIVE')), pa('w', { ...WL, ...mode('STRICT') })],
    8080,
    false,
  ],
  [
    'workload selector not matching',
    [pa('w', { selector: { matchLabels: { app: 'db' } }, ...mode('STRICT') })],
    8080,
    true,
  ],
  [
    'workload STRICT, port 8080 PERMISSIVE',
    [pa('w', { ...WL, ...mode('STRICT'), portLevelMtls: { 8080: { mode: 'PERMISSIVE' } } })],
    8080,
    true,
  ],
  [
    'workload STRICT, port 8080 PERMISSIVE: other ports stay STRICT',
    [pa('w', { ...WL, ...mode('STRICT'), portLevelMtls: { 8080: { mode: 'PERMISSIVE' } } })],
    9090,
    false,
  ],
  [
    'workload PERMISSIVE, port 8080 STRICT',
    [pa('w', { ...WL, ...mode('PERMISSIVE'), portLevelMtls: { 8080: { mode: 'STRICT' } } })],
    8080,
    false,
  ],
  [
    'workload PERMISSIVE, port 8080 STRICT: other ports PERMISSIVE',
    [pa('w', { ...WL, ...mode('PERMISSIVE'), portLevelMtls: { 8080: { mode: 'STRICT' } } })],
    9090,
    true,
  ],
  [
    'workload UNSET under namespace STRICT, port PERMISSIVE',
    [pa('n', mode('STRICT')), pa('w', { ...WL, portLevelMtls: { 8080: { mode: 'PERMISSIVE' } } })],
    8080,
    true,
  ],
  [
    'workload UNSET under namespace STRICT, port DISABLE stays STRICT (as istiod)',
    [pa('n', mode('STRICT')), pa('w', { ...WL, portLevelMtls: { 8080: { mode: 'DISABLE' } } })],
    8080,
    false,
  ],
  [
    'the oldest namespace policy wins',
    [
      pa('new', mode('PERMISSIVE'), 'web', '2026-02-01T00:00:00Z'),
      pa('old', mode('STRICT'), 'web', '2026-01-01T00:00:00Z'),
    ],
    8080,
    false,
  ],
  [
    'a workload policy in the root namespace is ignored',
    [pa('w', { ...WL, ...mode('STRICT') }, 'istio-system')],
    8080,
    true,
  ],
];

describe('PeerAuthentication, as ztunnel enforces it', () => {
  it.each(PA_ROWS)('%s', (_name, objects, port, plainAllowed, fallback) => {
    const { plain, mesh } = strictOn(port, objects, fallback);
    expect(plain).toBe(plainAllowed);
    expect(mesh).toBe(true);
  });
});
