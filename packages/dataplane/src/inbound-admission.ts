import { defaultInboundPolicy, parseSpiffeId } from '@switchyard/mesh';
import type { CompiledPeerCheck } from './server-admission.js';
import type { WorkloadParts } from './workload-parts.js';
import type { InboundPolicy } from './workload-policy.js';

/**
 * {@link authorizeInbound}'s rules for a workload (`policy`, our SPIFFE ID `self`) compiled for a
 * handshake that decides peers where it runs: deciding a peer from this gives what
 * `authorizeInbound` gives (its agreement test proves it). Undefined without an identity of our own.
 */
export function compileInboundPolicy(
  policy: InboundPolicy | undefined,
  self: string,
): CompiledPeerCheck | undefined {
  const id = parseSpiffeId(self);
  if (!id) return undefined;
  return {
    selfTrustDomain: id.trustDomain,
    rules: (policy?.authorization ?? defaultInboundPolicy(id)).allow,
  };
}

/**
 * The inbound authorization of a workload's captured connections, compiled; undefined where the
 * data plane's authorizer (the cluster's policies, per source and port) decides instead.
 */
export function compileInboundCheck(parts: WorkloadParts): CompiledPeerCheck | undefined {
  if (parts.inputs.authorizer) return undefined;
  return compileInboundPolicy(parts.spec.policy.inbound, parts.spec.identity?.current.spiffeId ?? '');
}
