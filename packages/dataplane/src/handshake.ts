import type { Accepted, HandshakeResult, PeerSession } from './carrier.js';
import type { Endpoint } from './decide.js';
import { formatEndpoint } from './upstream.js';
import type { WorkloadParts } from './workload-parts.js';

/**
 * The handshake stage, for every carrier and listener: the pending-handshake gate, the carrier's
 * handshake, and the accounting of one that failed (a TLS failure by reason, or a denial when
 * the peer named no single identity). Resolves with the peer's session, or undefined when the
 * connection is over (closed here if the carrier did not).
 */
export async function handshake(
  parts: WorkloadParts,
  c: Accepted,
  run: (c: Accepted) => Promise<HandshakeResult>,
  destination?: Endpoint,
): Promise<PeerSession | undefined> {
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
