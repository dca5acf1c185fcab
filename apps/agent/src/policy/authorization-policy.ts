import { ipBlock } from './ip-block.js';
import { ObjectReader } from './object-reader.js';
import {
  emptyMatch,
  type L4Match,
  type L4Policy,
  type PolicyAction,
  type Rule,
  type ServiceAccountMatch,
} from './policy-model.js';
import { stringMatch } from './string-match.js';

/** The annotation that makes a policy dry-run (evaluated and reported, not enforced). */
export const DRY_RUN_ANNOTATION = 'istio.io/dry-run';

const SPEC_FIELDS = ['selector', 'action', 'rules', 'provider', 'targetRef', 'targetRefs'];
const RULE_FIELDS = ['from', 'to', 'when'];
const SOURCE_FIELDS = [
  'principals',
  'notPrincipals',
  'namespaces',
  'notNamespaces',
  'serviceAccounts',
  'notServiceAccounts',
  'ipBlocks',
  'notIpBlocks',
  'requestPrincipals',
  'notRequestPrincipals',
  'remoteIpBlocks',
  'notRemoteIpBlocks',
];
/** Source fields ztunnel cannot see at L4 (istiod's list: remote addresses come from HTTP headers). */
const HTTP_SOURCE_FIELDS = [
  'requestPrincipals',
  'notRequestPrincipals',
  'remoteIpBlocks',
  'notRemoteIpBlocks',
];
const OPERATION_FIELDS = [
  'ports',
  'notPorts',
  'hosts',
  'notHosts',
  'methods',
  'notMethods',
  'paths',
  'notPaths',
];
const HTTP_OPERATION_FIELDS = ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'];
/** The `when` keys ztunnel enforces. */
export const L4_WHEN_KEYS = [
  'source.ip',
  'source.namespace',
  'source.principal',
  'destination.ip',
  'destination.port',
] as const;

/** What {@link compileAuthorizationPolicy} makes of an object. */
export type CompiledAuthorizationPolicy =
  | { kind: 'policy'; policy: L4Policy }
  /** Not for an L4 proxy (targetRefs, CUSTOM): left out, as ztunnel does. */
  | { kind: 'ignored'; namespace: string; name: string; reason: string }
  /**
   * Not readable: every problem with its field path, and what to enforce in its place when it
   * comes from the cluster (fail closed: an ALLOW that matches nothing, a DENY that matches all).
   */
  | { kind: 'invalid'; namespace: string; name?: string; problems: string[]; failClosed?: L4Policy };

/**
 * An `AuthorizationPolicy` (`security.istio.io/v1`) reduced to what ztunnel enforces, the way
 * istiod translates it for ztunnel: no selector → its namespace (every namespace from the root
 * namespace); `targetRef(s)` and CUSTOM → not for an L4 proxy; in an ALLOW policy a rule naming
 * any HTTP attribute is left out (it never matches); in a DENY or AUDIT policy the HTTP attributes
 * are dropped and the rest of the rule kept (a source or operation left with nothing matches
 * nothing); ports and addresses that do not parse are left out. Each drop is a warning.
 */
export function compileAuthorizationPolicy(
  object: unknown,
  rootNamespace: string,
): CompiledAuthorizationPolicy {
  const r = new ObjectReader();
  const o = r.object(object, 'AuthorizationPolicy') ?? {};
  const meta = r.object(o.metadata, 'metadata') ?? {};
  const name = r.string(meta.name, 'metadata.name');
  const namespace = r.string(meta.namespace, 'metadata.namespace') ?? 'default';
  const spec = r.object(o.spec, 'spec') ?? {};
  r.known(spec, 'spec', SPEC_FIELDS);
  if (!name) r.problems.push('metadata.name: required');
  const action = r.string(spec.action, 'spec.action') ?? 'ALLOW';
  if (!['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'].includes(action))
    r.problems.push(`spec.action: "${action}" is not ALLOW, DENY, AUDIT or CUSTOM`);
  const selector = r.object(spec.selector, 'spec.selector');
  if (selector) r.known(selector, 'spec.selector', ['matchLabels']);
  const matchLabels = selector
    ? (r.labels(selector.matchLabels, 'spec.selector.matchLabels') ?? {})
    : undefined;
  const warnings: string[] = [];
  const rules = r
    .objects(spec.rules, 'spec.rules')
    .flatMap((rule) => compileRule(r, rule.value, rule.path, action, namespace, warnings));
  const scope = matchLabels ? 'workload' : namespace === rootNamespace ? 'global' : 'namespace';
  const base = {
    kind: 'AuthorizationPolicy',
    namespace,
    scope,
    ...(matchLabels ? { selector: matchLabels } : {}),
  } as const;
  if (r.problems.length > 0) {
    const enforce = name && (action === 'ALLOW' || action === 'DENY');
    const failClosed: L4Policy | undefined = enforce
      ? { ...base, name, action, rules: action === 'DENY' ? [[]] : [], dryRun: false, warnings: r.problems }
      : undefined;
    return {
      kind: 'invalid',
      ...(name ? { name } : {}),
      namespace,
      problems: r.problems,
      ...(failClosed ? { failClosed } : {}),
    };
  }
  if (spec.targetRef || spec.targetRefs)
    return {
      kind: 'ignored',
      namespace,
      name: name as string,
      reason: 'targetRefs are for waypoints, not an L4 proxy',
    };
  if (action === 'CUSTOM')
    return {
      kind: 'ignored',
      namespace,
      name: name as string,
      reason: 'the CUSTOM action is not supported at L4',
    };
  return {
    kind: 'policy',
    policy: {
      ...base,
      name: name as string,
      action: action as PolicyAction,
      rules,
      dryRun: r.labels(meta.annotations, 'metadata.annotations')?.[DRY_RUN_ANNOTATION] === 'true',
      warnings,
    },
  };
}

/** One rule: its `to`, its `from`, and a clause per `when` (istiod's order); [] when an ALLOW rule is left out. */
function compileRule(
  r: ObjectReader,
  rule: Record<string, unknown>,
  path: string,
  action: string,
  namespace: string,
  warnings: string[],
): Rule[] {
  r.known(rule, path, RULE_FIELDS);
  const http = new Set<string>();
  const to = r.objects(rule.to, `${path}.to`).map((t) => {
    r.known(t.value, t.path, ['operation']);
    const op = r.object(t.value.operation, `${t.path}.operation`) ?? {};
    return operationMatch(r, op, `${t.path}.operation`, http, warnings);
  });
  const from = r.objects(rule.from, `${path}.from`).map((f) => {
    r.known(f.value, f.path, ['source']);
    const source = r.object(f.value.source, `${f.path}.source`) ?? {};
    return sourceMatch(r, source, `${f.path}.source`, namespace, http, warnings);
  });
  const when = r.objects(rule.when, `${path}.when`).map((w) => [conditionMatch(r, w.value, w.path, http)]);
  const clauses: Rule = [...(to.length ? [to] : []), ...(from.length ? [from] : []), ...when];
  if (http.size === 0) return [clauses];
  const names = [...http].sort().join(', ');
  if (action === 'ALLOW') {
    warnings.push(
      `${path}: left out: HTTP attributes (${names}) cannot be checked at L4, so this ALLOW rule never matches`,
    );
    return [];
  }
  warnings.push(
    `${path}: HTTP attributes (${names}) dropped; the rest of the rule is enforced (a part left empty matches nothing)`,
  );
  return [clauses];
}

function operationMatch(
  r: ObjectReader,
  op: Record<string, unknown>,
  path: string,
  http: Set<string>,
  warnings: string[],
): L4Match {
  r.known(op, path, OPERATION_FIELDS);
  for (const f of HTTP_OPERATION_FIELDS) if (r.strings(op[f], `${path}.${f}`).length > 0) http.add(f);
  return {
    ...emptyMatch(),
    destinationPorts: ports(r.strings(op.ports, `${path}.ports`), `${path}.ports`, warnings),
    notDestinationPorts: ports(r.strings(op.notPorts, `${path}.notPorts`), `${path}.notPorts`, warnings),
  };
}

function sourceMatch(
  r: ObjectReader,
  s: Record<string, unknown>,
  path: string,
  namespace: string,
  http: Set<string>,
  warnings: string[],
): L4Match {
  r.known(s, path, SOURCE_FIELDS);
  for (const f of HTTP_SOURCE_FIELDS) if (r.strings(s[f], `${path}.${f}`).length > 0) http.add(f);
  const list = (f: string) => r.strings(s[f], `${path}.${f}`);
  return {
    ...emptyMatch(),
    principals: list('principals').map(stringMatch),
    notPrincipals: list('notPrincipals').map(stringMatch),
    namespaces: list('namespaces').map(stringMatch),
    notNamespaces: list('notNamespaces').map(stringMatch),
    serviceAccounts: list('serviceAccounts').map((v) => serviceAccount(v, namespace)),
    notServiceAccounts: list('notServiceAccounts').map((v) => serviceAccount(v, namespace)),
    sourceIps: blocks(list('ipBlocks'), `${path}.ipBlocks`, warnings),
    notSourceIps: blocks(list('notIpBlocks'), `${path}.notIpBlocks`, warnings),
  };
}

/** A `when` condition on an L4 key becomes one match; any other key is an HTTP attribute (an empty match). */
function conditionMatch(
  r: ObjectReader,
  w: Record<string, unknown>,
  path: string,
  http: Set<string>,
): L4Match {
  r.known(w, path, ['key', 'values', 'notValues']);
  const key = r.string(w.key, `${path}.key`) ?? '';
  if (!key) r.problems.push(`${path}.key: required`);
  const values = r.strings(w.values, `${path}.values`);
  const notValues = r.strings(w.notValues, `${path}.notValues`);
  const m = emptyMatch();
  if (!(L4_WHEN_KEYS as readonly string[]).includes(key)) {
    if (key) http.add(key);
    return m;
  }
  const none: string[] = [];
  switch (key) {
    case 'source.ip':
      return { ...m, sourceIps: blocks(values, path, none), notSourceIps: blocks(notValues, path, none) };
    case 'destination.ip':
      return {
        ...m,
        destinationIps: blocks(values, path, none),
        notDestinationIps: blocks(notValues, path, none),
      };
    case 'destination.port':
      return {
        ...m,
        destinationPorts: ports(values, path, none),
        notDestinationPorts: ports(notValues, path, none),
      };
    case 'source.namespace':
      return { ...m, namespaces: values.map(stringMatch), notNamespaces: notValues.map(stringMatch) };
    default:
      return { ...m, principals: values.map(stringMatch), notPrincipals: notValues.map(stringMatch) };
  }
}

/** `ns/sa`, or `sa` in the policy's own namespace. */
function serviceAccount(value: string, namespace: string): ServiceAccountMatch {
  const slash = value.indexOf('/');
  return slash < 0
    ? { namespace, serviceAccount: value }
    : { namespace: value.slice(0, slash), serviceAccount: value.slice(slash + 1) };
}

/** Port numbers; a named port or anything else that is not 0–65535 is left out (istiod does the same). */
function ports(values: string[], path: string, warnings: string[]): number[] {
  return values.flatMap((v) => {
    const n = /^\d+$/.test(v) ? Number(v) : Number.NaN;
    if (n >= 0 && n <= 65535) return [n];
    warnings.push(`${path}: "${v}" is not a port number; left out`);
    return [];
  });
}

function blocks(values: string[], path: string, warnings: string[]) {
  return values.flatMap((v) => {
    const b = v === '' ? undefined : ipBlock(v);
    if (!b) warnings.push(`${path}: "${v}" is not an address or CIDR; left out`);
    return b ? [b] : [];
  });
}
