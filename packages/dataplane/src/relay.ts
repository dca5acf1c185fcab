import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Accepted, RelayOutcome } from './carrier.js';
import type { ReportInfo } from './connection-report.js';
import type { Endpoint } from './decide.js';
import { dialApp } from './dial-app.js';
import type { Direction } from './metrics.js';
import { type SpliceResult, splice } from './splice.js';
import { TlsTruncatedError } from './truncation-guard.js';
import { formatEndpoint } from './upstream.js';
import type { WorkloadParts } from './workload-parts.js';

/** The code of an outbound relay whose destination closed first without sending a byte. */
export const CLOSED_BEFORE_REPLY = 'closed-before-reply';

/** Why an outbound connection may end before its reply: said where that is how it ended. */
const DENIAL_HINT =
  "(after a TLS handshake, a denial by the server's policy ends this way; the server's log says why)";

/**
 * How a splice ended, as a relay outcome. Outbound (`server` is the destination), a destination
 * that ends the connection first without a byte back is named (`closed-before-reply`), not a
 * clean end: after a TLS handshake that is how a server's authorization denial reaches its client
 * (TLS 1.3 carries no reason; the server's own log has it). A carrier that fails a TLS stream ended
 * without close_notify (the JavaScript mTLS client, as the native engine) gets a reset instead.
 */
function outcomeOf(result: SpliceResult, direction?: Direction): RelayOutcome {
  const bytes = { up: result.aToB, down: result.bToA };
  if (result.error) {
    const truncated = result.error instanceof TlsTruncatedError;
    if (direction === 'outbound' && truncated && result.bToA === 0)
      return { ...bytes, code: 'reset', reason: `${result.error.message} ${DENIAL_HINT}` };
    return { ...bytes, code: 'reset', reason: result.error.message };
  }
  if (direction === 'outbound' && result.firstEnded === 'b' && result.bToA === 0)
    return {
      ...bytes,
      code: CLOSED_BEFORE_REPLY,
      reason: `the destination closed the connection before sending a byte ${DENIAL_HINT}`,
    };
  return bytes;
}

/** Joins two streams both ways until both are closed: bytes each way, and how it ended. */
export async function spliceOutcome(client: Duplex, server: Duplex): Promise<RelayOutcome> {
  return outcomeOf(await splice(client, server));
}

/** Joins two streams and reports the bytes moved. */
export async function relay(
  parts: WorkloadParts,
  direction: Direction,
  client: Duplex,
  server: Duplex,
  info: ReportInfo,
): Promise<void> {
  parts.reporter.relayed(direction, outcomeOf(await splice(client, server), direction), info);
}

/** Plain TCP where the policy allows it: dial the destination (the app, inbound) and relay. */
export async function relayPlain(
  parts: WorkloadParts,
  direction: Direction,
  c: Accepted,
  destination: Endpoint,
  why: string,
  service?: string,
): Promise<void> {
  const info = {
    source: c.client.address,
    destination: formatEndpoint(destination),
    reason: why,
    ...(service ? { service } : {}),
  };
  let upstream: Socket;
  try {
    upstream =
      direction === 'inbound'
        ? await dialApp(parts, destination, c.client.address)
        : await parts.inputs.upstream.dial({ destination, target: parts.spec.target });
  } catch (error) {
    parts.reporter.report({
      ...info,
      direction,
      outcome: 'failed',
      code: 'connect',
      reason: `connect to ${info.destination} failed: ${(error as Error).message}`,
    });
    return void c.socket.destroy();
  }
  parts.admission.track(upstream);
  if (c.socket.destroyed) return void upstream.destroy();
  await relay(parts, direction, c.socket, upstream, info);
}
