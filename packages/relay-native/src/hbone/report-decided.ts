import { type CarrierContext, formatEndpoint, type StreamVerdict } from '@switchyard/dataplane/carrier';
import { parseAuthority, parseForwardedFor } from '@switchyard/hbone';
import type { DecidedTunnel } from '../h2-session.js';
import { tunnelOutcome } from './tunnel-outcome.js';

/** The connection a decided stream ran on. */
export interface StreamOrigin {
  peer: string | undefined;
  source: string;
  arrivedOn: string;
}

/** Whether the engine let the stream through its table (a failed dial was admitted first). */
const engineAdmitted = (t: DecidedTunnel) => t.verdict === 'accepted' || t.code === 'connect';

/** What is reported for a stream the data plane allows but the engine did not relay. */
function notRelayed(verdict: Extract<StreamVerdict, { allowed: true }>, t: DecidedTunnel) {
  if (t.code === 'connect')
    return {
      outcome: 'failed' as const,
      code: 'connect',
      reason: `connect to ${formatEndpoint(verdict.destination)} failed: ${t.detail}`,
    };
  return {
    outcome: 'refused' as const,
    code: t.code,
    reason: `refused by the engine's admission table (${t.code})`,
  };
}

/**
 * A stream the engine's admission table decided, heard afterwards: the data plane's own decision
 * (`decideStream`) is asked and stays the truth — a stream the engine admitted against it is
 * reset and the disagreement logged — and the stream is reported as `serveStream` reports one:
 * a refusal at once, a relayed tunnel at its end.
 */
export function reportDecided(c: CarrierContext, from: StreamOrigin, t: DecidedTunnel): void {
  const authority = parseAuthority(t.authority);
  const forwarded = t.forwarded ? parseForwardedFor(t.forwarded) : undefined;
  const verdict = c.decideStream?.({
    ...from,
    authority,
    ...(forwarded ? { forwardedFor: forwarded.address } : {}),
  });
  if (!verdict) {
    // a data plane that cannot say gets nothing relayed on its behalf (it compiled no table either)
    if (t.verdict === 'accepted') t.reset();
    return;
  }
  if (verdict.allowed !== engineAdmitted(t)) {
    c.logger.error('the admission table disagreed with the data plane on a stream', {
      ...verdict.report,
      engine: t.verdict === 'accepted' ? 'accepted' : `refused (${t.code})`,
    });
    if (t.verdict === 'accepted' && !verdict.allowed) t.reset(); // fail closed: the data plane's refusal holds
  }
  if (!verdict.allowed) {
    c.report({ ...verdict.report, direction: 'inbound', outcome: verdict.outcome });
    return;
  }
  if (t.verdict === 'refused') {
    c.report({ ...verdict.report, direction: 'inbound', ...notRelayed(verdict, t) });
    return;
  }
  void t.ended?.then((result) => c.relayed('inbound', tunnelOutcome(result), verdict.report));
}
