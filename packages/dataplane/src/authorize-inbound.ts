import { authorize, defaultInboundPolicy, parseSpiffeId, type SpiffeId } from '@switchyard/mesh';
import type { InboundAuthorization } from './carrier.js';
import type { InboundPolicy } from './workload-policy.js';

/** The facts {@link authorizeInbound} needs. */
export interface InboundPeerFacts {
  /** The workload's inbound policy (its `authorization`; default: our trust domain and namespace). */
  policy: InboundPolicy | undefined;
  /** The workload's own SPIFFE ID, as its current certificate names it. */
  self: string;
  /** The peer's one SPIFFE ID, or undefined when it presented none or several. */
  peer: string | undefined;
  /** Why there is no `peer` (for the report). */
  identityError?: string | undefined;
}

/**
 * The one inbound authorization of the data plane (ztunnel's `assert_rbac`, linkerd's
 * `NewTcpPolicy`): every carrier's peers, connection or stream, are decided here and nowhere else.
 */
export function authorizeInbound(f: InboundPeerFacts): InboundAuthorization {
  if (f.peer === undefined)
    return {
      allowed: false,
      code: 'identity',
      reason: f.identityError ?? 'the peer presented no SPIFFE identity',
    };
  const self = parseSpiffeId(f.self) as SpiffeId;
  const decision = authorize(f.policy?.authorization ?? defaultInboundPolicy(self), self, f.peer);
  return decision.allowed
    ? { allowed: true, reason: decision.reason }
    : { allowed: false, code: 'policy', reason: decision.reason };
}
