import type { IpBlock } from './ip-block.js';
import type { StringMatch } from './string-match.js';

/** A service account a source may run as (`serviceAccounts`: `ns/sa`, or `sa` in the policy's namespace). */
export interface ServiceAccountMatch {
  namespace: string;
  serviceAccount: string;
}

/**
 * One set of L4 conditions, all of which must hold (ztunnel's `RbacMatch`): within a field any
 * positive entry must match, and no negative entry may. A match with no field set matches
 * nothing (ztunnel skips it): that is what an operation or source made only of HTTP attributes
 * becomes.
 */
export interface L4Match {
  principals: StringMatch[];
  notPrincipals: StringMatch[];
  namespaces: StringMatch[];
  notNamespaces: StringMatch[];
  serviceAccounts: ServiceAccountMatch[];
  notServiceAccounts: ServiceAccountMatch[];
  sourceIps: IpBlock[];
  notSourceIps: IpBlock[];
  destinationIps: IpBlock[];
  notDestinationIps: IpBlock[];
  destinationPorts: number[];
  notDestinationPorts: number[];
}

/** Any of its matches (an empty clause matches everything). */
export type Clause = L4Match[];

/** All of its clauses: `to`, `from`, and one per `when` condition (a rule with none matches everything). */
export type Rule = Clause[];

/** Where a policy applies: every namespace (root namespace), its own namespace, or the workloads its selector picks. */
export type PolicyScope = 'global' | 'namespace' | 'workload';

/** What a matching policy does. AUDIT never changes a decision: its matches are counted. */
export type PolicyAction = 'ALLOW' | 'DENY' | 'AUDIT';

/** An AuthorizationPolicy (or a PeerAuthentication's effect) reduced to what an L4 proxy enforces. */
export interface L4Policy {
  /** `AuthorizationPolicy` or `PeerAuthentication`. */
  kind: 'AuthorizationPolicy' | 'PeerAuthentication';
  namespace: string;
  name: string;
  scope: PolicyScope;
  /** The `selector.matchLabels` of a workload-scoped policy. */
  selector?: Readonly<Record<string, string>>;
  action: PolicyAction;
  /** Any rule matching makes the policy match; none at all matches nothing. */
  rules: Rule[];
  /** `istio.io/dry-run: "true"`: evaluated and reported, never enforced. */
  dryRun: boolean;
  /** What was left out and why (HTTP attributes, unreadable ports or addresses). */
  warnings: string[];
}

/** A policy's name as decisions and metrics give it: `namespace/name`. */
export const policyKey = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;

/** A match with nothing set (see {@link L4Match}). */
export function emptyMatch(): L4Match {
  return {
    principals: [],
    notPrincipals: [],
    namespaces: [],
    notNamespaces: [],
    serviceAccounts: [],
    notServiceAccounts: [],
    sourceIps: [],
    notSourceIps: [],
    destinationIps: [],
    notDestinationIps: [],
    destinationPorts: [],
    notDestinationPorts: [],
  };
}
