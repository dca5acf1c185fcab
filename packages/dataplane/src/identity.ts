import { readFile } from 'node:fs/promises';
import { InputInvalidError } from '@switchyard/core';
import {
  type AuthorizationPolicy,
  authorize,
  defaultOutboundPolicy,
  parseSpiffeId,
  type SpiffeId,
} from '@switchyard/mesh';
import ipaddr from 'ipaddr.js';
import { parse as parseYaml } from 'yaml';

/**
 * Which SPIFFE identities a destination may present (ztunnel learns this from xDS; the agent
 * fills it from the Kubernetes API). `undefined`: the resolver knows nothing of that address.
 */
export interface IdentityResolver {
  expected(address: string): readonly string[] | undefined;
}

/** An IP address in one spelling (`fd00:0::7` → `fd00::7`, `::ffff:10.0.0.7` → `10.0.0.7`), or undefined. */
export function canonicalAddress(address: string): string | undefined {
  return ipaddr.isValid(address) ? ipaddr.process(address).toString() : undefined;
}

/**
 * A resolver from a fixed map: `{ "10.0.0.7": ["spiffe://cluster.local/ns/web/sa/api"] }`.
 * Addresses are compared in canonical form, so any spelling of an address finds its entry.
 *
 * @throws InputInvalidError for a key that is not an IP address (a hostname would never match).
 */
export function staticIdentities(map: Record<string, readonly string[]>): IdentityResolver {
  const table = new Map<string, string[]>();
  for (const [address, ids] of Object.entries(map)) {
    const key = canonicalAddress(address);
    if (!key) throw new InputInvalidError(`identity map: "${address.slice(0, 80)}" is not an IP address`);
    table.set(key, [...ids]);
  }
  return { expected: (address) => table.get(canonicalAddress(address) ?? '') };
}

/**
 * Reads a resolver from a JSON or YAML file mapping addresses to lists of SPIFFE IDs.
 *
 * @throws InputInvalidError naming the file and each bad entry.
 */
export async function identitiesFromFile(path: string): Promise<IdentityResolver> {
  let document: unknown;
  try {
    document = parseYaml(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new InputInvalidError(`${path}: cannot read the identity map: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    throw new InputInvalidError(`${path}: expected a map of address → [SPIFFE IDs]`);
  const problems: string[] = [];
  for (const [address, ids] of Object.entries(document)) {
    if (!canonicalAddress(address)) problems.push(`${address}: not an IP address`);
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string' || !parseSpiffeId(id)))
      problems.push(`${address}: expected a list of spiffe://DOMAIN/ns/NS/sa/SA`);
  }
  if (problems.length > 0) throw new InputInvalidError(`${path}: ${problems.join('; ')}`);
  return staticIdentities(document as Record<string, string[]>);
}

/**
 * What a client accepts from a server whose address the resolver does not know:
 * `refuse` (the default with a resolver), or `trust-domain` — any identity of our trust domain,
 * weaker: any workload of the mesh can pose as any destination. It must be chosen explicitly.
 */
export type IdentityFallback = 'refuse' | 'trust-domain';

/** The outcome of {@link checkServerIdentity}. */
export interface ServerIdentityDecision {
  allowed: boolean;
  reason: string;
  code?: 'no-identity' | 'several-identities' | 'unexpected-identity' | 'unknown-destination' | 'policy';
}

/** The inputs of {@link checkServerIdentity}. */
export interface ServerIdentityFacts {
  /** SPIFFE URIs in the server certificate (an SVID has exactly one). */
  presented: readonly string[];
  /** The address dialled. */
  address: string;
  resolver: IdentityResolver | undefined;
  fallback: IdentityFallback;
  self: SpiffeId;
  /** Extra allow rules applied after pinning. Default: our trust domain. */
  authorization?: AuthorizationPolicy | undefined;
}

/**
 * The client side of identity: the server presents exactly one SPIFFE ID, that ID is one the
 * resolver expects for the dialled address (or, with the explicit `trust-domain` fallback, any of
 * ours), and the authorization policy allows it.
 */
export function checkServerIdentity(f: ServerIdentityFacts): ServerIdentityDecision {
  if (f.presented.length === 0)
    return { allowed: false, code: 'no-identity', reason: 'the server presented no SPIFFE identity' };
  if (f.presented.length > 1)
    return {
      allowed: false,
      code: 'several-identities',
      reason: `the server certificate carries ${f.presented.length} SPIFFE IDs; an SVID has exactly one`,
    };
  const peer = f.presented[0] as string;
  const expected = f.resolver?.expected(f.address);
  if (expected && !expected.includes(peer))
    return {
      allowed: false,
      code: 'unexpected-identity',
      reason: `${f.address} presented ${peer}, expected ${expected.join(' or ')}`,
    };
  if (!expected && f.fallback === 'refuse')
    return {
      allowed: false,
      code: 'unknown-destination',
      reason: `no expected identity is known for ${f.address}; add it to the identity resolver`,
    };
  const decision = authorize(f.authorization ?? defaultOutboundPolicy(f.self), f.self, peer);
  return decision.allowed
    ? { allowed: true, reason: decision.reason }
    : { allowed: false, code: 'policy', reason: decision.reason };
}

/**
 * The client side's one SPIFFE ID (exactly one), or a reason to refuse: what both servers check
 * before authorization.
 */
export function singleSpiffeId(presented: readonly string[]): { id?: string; reason?: string } {
  if (presented.length === 1) return { id: presented[0] as string };
  return presented.length === 0
    ? { reason: 'the peer presented no SPIFFE identity' }
    : { reason: `the peer certificate carries ${presented.length} SPIFFE IDs; an SVID has exactly one` };
}
