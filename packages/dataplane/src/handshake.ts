import type { Accepted, HandshakeResult, PeerSession } from './carrier.js';
import type { Endpoint } from './decide.js';
import { NOT_TLS } from './sniff.js';
import { formatEndpoint } from './upstream.js';
import type { WorkloadParts } from './workload-parts.js';

/**
 * The handshake stage, for every carrier and listener: the pending-handshake gate, the carrier's
 * handshake, and the accounting of one that failed (a TLS failure by reason, or a denial when
 * the peer named no single identity). Resolves with the peer's session, or undefined when the
 * connection is over (closed here if the carrier did not) — or, only where `plainAccepted` let
 * the carrier look, {@link NOT_TLS} for a client that sent plain TCP (the connection left open).
 */
export async function handshake(
  parts: WorkloadParts,
  c: Accepted,
  run: (c: Accepted) => Promise<HandshakeResult>,
  destination?: Endpoint,
  plainAccepted = false,
): Promise<PeerSession | typeof NOT_TLS | undefined> {
  const done = parts.admission.beginHandshake(c);
  if (!done) return undefined;
  let result: HandshakeResult;
  try {
    result = await run(c);
  } catch (error) {
    result = { ok: false, failure: 'handshake', reason: (error as Error).message };
  } finally {
    done();
  }
  if (result.ok) return result.session;
  // Plain TCP only where it was accepted: from any other handshake, a failure like the rest.
  if (result.failure === NOT_TLS && plainAccepted && !c.socket.destroyed) return NOT_TLS;
  if (result.failure === 'identity')
    parts.reporter.report({
      direction: 'inbound',
      outcome: 'denied',
      code: 'identity',
      reason: result.reason,
      source: c.client.address,
      ...(destination ? { destination: formatEndpoint(destination) } : {}),
    });
  else parts.reporter.tlsFailure('inbound', result.failure, result.reason, c.client.address);
  if (!c.socket.destroyed) c.socket.destroy();
  return undefined;
}
