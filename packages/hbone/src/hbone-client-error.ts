import { type ClientHttp2Stream, constants as h2constants } from 'node:http2';
import { HboneTunnelError } from '@switchyard/core';

/** Tunnel errors whose stream broke (or closed) before the peer answered anything. */
const lost = new WeakSet<Error>();

/**
 * Whether the tunnel failed because its stream broke or closed before any answer: the peer took
 * no decision and no byte was relayed (a pooled connection to a peer that restarted), so the
 * CONNECT may be tried again on a fresh connection. A status or a timeout is not that.
 */
export function lostBeforeAnswer(error: unknown): boolean {
  return error instanceof Error && lost.has(error);
}

/** Former name of {@link HboneTunnelError}, kept for callers that catch it by name. */
export const HboneConnectError = HboneTunnelError;

/**
 * Waits for the answer to a CONNECT (or POST-mode) request, at most `timeoutMs`: resolves on
 * 200; otherwise destroys the stream and rejects with an HboneTunnelError carrying the status,
 * `who` naming the peer.
 */
export function awaitTunnel(
  stream: ClientHttp2Stream,
  who: string,
  target: string,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    // The error is built only when the answer is not a 200: a tunnel that opened and later
    // closes must not pay for an Error (and its stack) it never throws.
    const fail = (message: string, status = 0, broken = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const error = new HboneTunnelError(message, status);
      if (broken) lost.add(error);
      reject(error);
    };
    // A peer that takes the stream and never answers must not hold it (or the app) forever.
    const timer = setTimeout(() => {
      stream.close(h2constants.NGHTTP2_CANCEL);
      fail(`${who} did not answer for ${target} within ${timeoutMs} ms`);
    }, timeoutMs);
    stream.once('response', (headers) => {
      const status = Number(headers[':status']);
      if (status !== 200) {
        stream.destroy();
        return fail(`${who} answered ${status} for ${target}`, status);
      }
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve();
    });
    stream.once('error', (e) => fail(`HBONE stream to ${who} failed: ${e.message}`, 0, true));
    stream.once('close', () => fail(`HBONE stream to ${who} closed before an answer`, 0, true));
  });
}

/**
 * The metrics code of a tunnel the peer answered with a non-200 status: its class
 * (`status-4xx`, `status-5xx`, else `status-other`), so a peer choosing odd statuses cannot
 * grow the label set.
 */
export function tunnelStatusCode(status: number): 'status-4xx' | 'status-5xx' | 'status-other' {
  if (status >= 400 && status < 500) return 'status-4xx';
  if (status >= 500 && status < 600) return 'status-5xx';
  return 'status-other';
}
