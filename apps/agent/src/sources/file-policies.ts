import type { Issues } from '../config/issues.js';
import { compileAuthorizationPolicy } from '../policy/authorization-policy.js';
import { readPeerAuthentication } from '../policy/peer-authentication.js';
import type { PolicyKind } from '../policy/policy-store.js';

const KINDS: readonly PolicyKind[] = ['AuthorizationPolicy', 'PeerAuthentication'];
const API_VERSIONS = ['security.istio.io/v1', 'security.istio.io/v1beta1'];

/** A policy object of a workload file, as the policy store takes it. */
export interface FilePolicy {
  kind: PolicyKind;
  object: unknown;
}

/**
 * The `policies` of a workload file: Istio AuthorizationPolicy and PeerAuthentication objects,
 * written exactly as for the cluster (`apiVersion`, `kind`, `metadata`, `spec`). Every problem is
 * recorded at its path (`policies[0].spec.rules[1].from[0].source.principals: …`): unlike the
 * cluster's objects, which are enforced fail-closed when unreadable, a file that does not read is
 * refused as a whole.
 */
export function parseFilePolicies(is: Issues, value: unknown): FilePolicy[] {
  if (value === undefined) return [];
  return is.array('policies', value).flatMap((item, i): FilePolicy[] => {
    const path = `policies[${i}]`;
    const o = is.object(path, item, false);
    const kind = is.oneOf(`${path}.kind`, o.kind, KINDS, 'AuthorizationPolicy');
    if (!API_VERSIONS.includes(o.apiVersion as string))
      is.add(`${path}.apiVersion`, `expected ${API_VERSIONS.join(' or ')}`);
    const problems = problemsOf(kind, o);
    for (const p of problems) {
      const at = p.indexOf(': ');
      is.add(`${path}.${p.slice(0, at)}`, p.slice(at + 2));
    }
    return problems.length === 0 ? [{ kind, object: o }] : [];
  });
}

function problemsOf(kind: PolicyKind, o: Record<string, unknown>): string[] {
  const { kind: _k, apiVersion: _a, ...rest } = o;
  if (kind === 'PeerAuthentication') {
    const read = readPeerAuthentication(rest);
    return 'problems' in read ? read.problems : [];
  }
  const compiled = compileAuthorizationPolicy(rest, '');
  return compiled.kind === 'invalid' ? compiled.problems : [];
}
