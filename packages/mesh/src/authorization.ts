import { InputInvalidError } from '@switchyard/core';
import { parseSpiffeId, type SpiffeId } from './spiffe-id.js';

/** One allow rule; a field left out matches anything, except `trustDomain`, which defaults to our own. */
export interface AuthorizationRule {
  spiffeId?: string;
  trustDomain?: string;
  namespace?: string;
  serviceAccount?: string;
}

/** Which peer identities a proxy accepts: any rule matching allows. An empty list allows nobody. */
export interface AuthorizationPolicy {
  allow: AuthorizationRule[];
}

/** The decision for one peer, with the reason for logs and metrics. */
export interface AuthorizationDecision {
  allowed: boolean;
  /** The peer's SPIFFE ID, when it presented one. */
  peer?: string;
  reason: string;
}

/** Inbound default: peers of our own trust domain and namespace. */
export function defaultInboundPolicy(self: SpiffeId): AuthorizationPolicy {
  return { allow: [{ trustDomain: self.trustDomain, namespace: self.namespace }] };
}

/** Outbound default: any server identity of our own trust domain. */
export function defaultOutboundPolicy(self: SpiffeId): AuthorizationPolicy {
  return { allow: [{ trustDomain: self.trustDomain }] };
}

/** Decides whether `peer` (a SPIFFE URI, or undefined when the peer showed none) is allowed. */
export function authorize(
  policy: AuthorizationPolicy,
  self: SpiffeId,
  peer: string | undefined,
): AuthorizationDecision {
  if (peer === undefined) return { allowed: false, reason: 'the peer presented no SPIFFE identity' };
  const id = parseSpiffeId(peer);
  if (!id) return { allowed: false, peer, reason: `"${peer}" is not a SPIFFE workload identity` };
  const match = policy.allow.find(
    (r) =>
      (r.spiffeId === undefined || r.spiffeId === peer) &&
      (r.trustDomain ?? self.trustDomain) === id.trustDomain &&
      (r.namespace === undefined || r.namespace === id.namespace) &&
      (r.serviceAccount === undefined || r.serviceAccount === id.serviceAccount),
  );
  return match
    ? { allowed: true, peer, reason: `allowed by ${JSON.stringify(match)}` }
    : { allowed: false, peer, reason: `no rule allows ${peer}` };
}

const RULE_KEYS = ['spiffeId', 'trustDomain', 'namespace', 'serviceAccount'];

/**
 * Checks an authorization document (`{"allow": [{"namespace": "web"}, {"spiffeId": "spiffe://…"}]}`).
 *
 * @throws InputInvalidError naming each bad field.
 */
export function parseAuthorizationPolicy(
  document: unknown,
  source = 'authorization policy',
): AuthorizationPolicy {
  const problems: string[] = [];
  const allow = (document as { allow?: unknown } | null)?.allow;
  if (typeof document !== 'object' || document === null || !Array.isArray(allow)) {
    throw new InputInvalidError(
      `${source}: expected {"allow": [ … rules … ]}, e.g. {"allow": [{"namespace": "web"}]}`,
    );
  }
  for (const key of Object.keys(document)) if (key !== 'allow') problems.push(`unknown field "${key}"`);
  allow.forEach((rule, i) => {
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
      problems.push(`allow[${i}] must be an object`);
      return;
    }
    for (const [key, value] of Object.entries(rule)) {
      if (!RULE_KEYS.includes(key))
        problems.push(`allow[${i}].${key}: unknown field; use ${RULE_KEYS.join(', ')}`);
      else if (typeof value !== 'string' || value === '')
        problems.push(`allow[${i}].${key}: must be a non-empty string`);
      else if (key === 'spiffeId' && !parseSpiffeId(value))
        problems.push(`allow[${i}].spiffeId: "${value}" is not spiffe://DOMAIN/ns/NS/sa/SA`);
    }
  });
  if (problems.length > 0) throw new InputInvalidError(`${source}: ${problems.join('; ')}`);
  return { allow: allow as AuthorizationRule[] };
}
