import { type ClientHttp2Stream, constants as h2constants } from 'node:http2';
import { HboneTunnelError } from '@switchyard/core';

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
    // A peer that takes the stream and never answers must not hold it (or the app) forever.
    const timer = setTimeout(() => {
      stream.close(h2constants.NGHTTP2_CANCEL);
      reject(new HboneTunnelError(`${who} did not answer for ${target} within ${timeoutMs} ms`, 0));
    }, timeoutMs);
    stream.once('close', () => clearTimeout(timer));
    stream.once('response', (headers) => {
      clearTimeout(timer);
      const status = Number(headers[':status']);
      if (status === 200) return resolve();
      stream.destroy();
      reject(new HboneTunnelError(`${who} answered ${status} for ${target}`, status));
    });
    stream.once('error', (e) =>
      reject(new HboneTunnelError(`HBONE stream to ${who} failed: ${e.message}`, 0)),
    );
    stream.once('close', () =>
      reject(new HboneTunnelError(`HBONE stream to ${who} closed before an answer`, 0)),
    );
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
