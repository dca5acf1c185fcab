import { authorizeInbound, type CarrierContext, formatEndpoint } from '@switchyard/dataplane/carrier';
import { type HboneAuthority, parseAuthority, parseForwardedFor } from '@switchyard/hbone';
import type { DecidedTunnel } from '../h2-session.js';
import { tunnelOutcome } from './tunnel-outcome.js';

/** The connection a decided stream ran on. */
export interface StreamOrigin {
  peer: string | undefined;
  source: string;
}

/** Why the table refused, in the words the data plane's `serveStream` reports the same refusal with. */
function refusal(
  c: CarrierContext,
  peer: string | undefined,
  authority: HboneAuthority | undefined,
  t: DecidedTunnel,
): { outcome: 'denied' | 'refused' | 'failed'; code: string; reason: string } {
  const address = authority?.address ?? t.authority;
  if (t.code === 'policy') {
    const self = c.workload.identity.current.spiffeId;
    const { reason } = authorizeInbound({ policy: c.workload.policy.inbound, self, peer });
    return { outcome: 'denied', code: 'policy', reason };
  }
  if (t.code === 'not-this-workload')
    return {
      outcome: 'refused',
      code: t.code,
      reason: `${address} is not an address of the workload served here`,
    };
  if (t.code === 'proxy-port')
    return { outcome: 'refused', code: t.code, reason: `port ${authority?.port} is the proxy's own` };
  const destination = c.workload.policy.inbound?.fixedDestination ?? authority;
  const to = destination ? formatEndpoint(destination) : t.authority;
  return { outcome: 'failed', code: 'connect', reason: `connect to ${to} failed: ${t.detail}` };
}

/**
 * Reports a stream the engine's admission table decided as the data plane reports a stream it
 * served: a refusal at once (with what `serveStream` names for it), an admitted tunnel at its end.
 */
export function reportDecided(c: CarrierContext, from: StreamOrigin, t: DecidedTunnel): void {
  const authority = parseAuthority(t.authority);
  const forwarded = t.forwarded ? parseForwardedFor(t.forwarded) : undefined;
  const info = { source: from.source, ...(from.peer ? { peer: from.peer } : {}) };
  const where = authority ? { ...info, destination: formatEndpoint(authority) } : info;
  const full = { ...where, ...(forwarded ? { forwardedFor: forwarded.address } : {}) };
  if (t.verdict === 'accepted') {
    void t.ended?.then((result) => c.relayed('inbound', tunnelOutcome(result), full));
    return;
  }
  const r = refusal(c, from.peer, authority, t);
  const fields = t.code === 'policy' ? info : t.code === 'connect' ? full : where;
  c.report({ ...fields, direction: 'inbound', ...r });
}
