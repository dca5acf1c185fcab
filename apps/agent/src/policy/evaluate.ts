import { parseSpiffeId } from '@switchyard/mesh';
import { type L4Match, type L4Policy, policyKey } from './policy-model.js';
import { matchesPrincipal, matchesString } from './string-match.js';

/** One inbound connection as a policy sees it (ztunnel's `Connection`). */
export interface PolicyConnection {
  /** The client's address (the TCP peer). */
  source: string;
  /** The workload's address and port the client asked for. */
  destination: { address: string; port: number };
  /** The client's SPIFFE ID; absent for plain TCP. */
  peer?: string | undefined;
}

/** The outcome for one connection, with what decided it. */
export interface PolicyVerdict {
  allowed: boolean;
  /** `namespace/name` of the policy that decided, when one did. */
  policy?: string;
  /** A sentence for logs, `explain` and the connection report. */
  reason: string;
  /** AUDIT policies that matched (counted, never deciding). */
  audited: string[];
  /** Dry-run policies that matched: what they would have done. */
  dryRun: { policy: string; action: string }[];
}

/**
 * Whether a policy matches: any of its rules, each of whose clauses has a match whose every set
 * field holds (ztunnel's `Authorization::matches`). A policy with no rules matches nothing; a
 * rule with no clauses, everything.
 */
export function policyMatches(policy: L4Policy, c: PolicyConnection): boolean {
  return policy.rules.some((rule) =>
    rule.every((clause) => clause.length === 0 || clause.some((m) => matches(m, c))),
  );
}

function matches(m: L4Match, c: PolicyConnection): boolean {
  if (isEmpty(m)) return false;
  const id = c.peer ? parseSpiffeId(c.peer) : undefined;
  const namespace = id?.namespace ?? '';
  return (
    field(m.destinationIps, m.notDestinationIps, (b) => b.contains(c.destination.address)) &&
    field(m.sourceIps, m.notSourceIps, (b) => b.contains(c.source)) &&
    field(m.destinationPorts, m.notDestinationPorts, (p) => p === c.destination.port) &&
    field(
      m.serviceAccounts,
      m.notServiceAccounts,
      (sa) => !!id && sa.namespace === id.namespace && sa.serviceAccount === id.serviceAccount,
    ) &&
    field(m.principals, m.notPrincipals, (p) => matchesPrincipal(p, c.peer)) &&
    field(m.namespaces, m.notNamespaces, (n) => matchesString(n, namespace))
  );
}

/** Any positive entry matches (or there is none), and no negative entry does. */
function field<T>(positive: readonly T[], negative: readonly T[], test: (t: T) => boolean): boolean {
  return (positive.length === 0 || positive.some(test)) && !negative.some(test);
}

function isEmpty(m: L4Match): boolean {
  return Object.values(m).every((v) => (v as unknown[]).length === 0);
}

/**
 * ztunnel's decision over the policies that apply to a workload: a matching DENY denies; with
 * no ALLOW policy the connection is allowed; otherwise a matching ALLOW allows and anything else
 * is denied. Dry-run policies are evaluated and reported only; AUDIT policies are reported only.
 */
export function decide(policies: readonly L4Policy[], c: PolicyConnection): PolicyVerdict {
  const audited: string[] = [];
  const dryRun: PolicyVerdict['dryRun'] = [];
  const enforced = (action: string) => policies.filter((p) => p.action === action && !p.dryRun);
  for (const p of policies) {
    if (p.action === 'AUDIT' && policyMatches(p, c)) audited.push(policyKey(p));
    if (p.dryRun && p.action !== 'AUDIT' && policyMatches(p, c))
      dryRun.push({ policy: policyKey(p), action: p.action });
  }
  const out = { audited, dryRun };
  const deny = enforced('DENY').find((p) => policyMatches(p, c));
  if (deny) return { ...out, allowed: false, policy: policyKey(deny), reason: `denied by ${describe(deny)}` };
  const allows = enforced('ALLOW');
  if (allows.length === 0)
    return { ...out, allowed: true, reason: 'no ALLOW policy applies, and no DENY policy matches' };
  const allow = allows.find((p) => policyMatches(p, c));
  if (allow)
    return { ...out, allowed: true, policy: policyKey(allow), reason: `allowed by ${describe(allow)}` };
  return {
    ...out,
    allowed: false,
    reason: `no ALLOW policy matches (${allows.map(policyKey).join(', ')} apply)`,
  };
}

function describe(p: L4Policy): string {
  return `${p.kind === 'PeerAuthentication' ? 'PeerAuthentication' : `${p.action} policy`} ${policyKey(p)}`;
}
