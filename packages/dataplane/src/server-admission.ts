import { type AuthorizationRule, defaultOutboundPolicy } from '@switchyard/mesh';
import type { ServerIdentityFacts } from './identity.js';

/** An authorization's allow rules, as a table outside JavaScript holds them. */
export interface CompiledPeerCheck {
  /** Our own trust domain: a rule without one matches it. */
  selfTrustDomain: string;
  /** The allow rules (the policy's, or its default). */
  rules: readonly AuthorizationRule[];
}

/**
 * {@link checkServerIdentity}'s inputs for one destination, taken apart so that a data plane
 * that runs handshakes elsewhere (the native engine) can decide a server there, without asking
 * back: the allow rules and our trust domain (a table entry), and what the resolver expects of
 * the address now (the question that goes with the dial).
 */
export interface CompiledServerCheck extends CompiledPeerCheck {
  /** The identities the destination must present; undefined when the resolver knows none. */
  expected: readonly string[] | undefined;
  /** With no `expected`: any identity the rules allow (the explicit `trust-domain` fallback). */
  trustDomainFallback: boolean;
}

/**
 * The server check compiled for one destination: deciding a presented identity from this gives
 * what {@link checkServerIdentity} gives for the same facts (its agreement test proves it).
 */
export function compileServerCheck(f: Omit<ServerIdentityFacts, 'presented'>): CompiledServerCheck {
  return {
    selfTrustDomain: f.self.trustDomain,
    rules: (f.authorization ?? defaultOutboundPolicy(f.self)).allow,
    expected: f.resolver?.expected(f.address),
    trustDomainFallback: f.fallback === 'trust-domain',
  };
}
