import type { OutboundFailure } from './carrier.js';

/** What an upstream dial or tunnel throws: an UpstreamIdentityError, an UpstreamTlsError, a socket error. */
interface DialError {
  code?: string;
  reason?: string;
  message: string;
}

/**
 * Classifies an error thrown by {@link Upstream.tls} (or a tunnel opened over it) for
 * {@link CarrierContext.outboundFailed}: a server that is not who it should be is a denial by
 * its reason, a failed handshake a TLS failure, anything else a failed connect.
 */
export function outboundFailure(error: unknown): Pick<OutboundFailure, 'kind' | 'code' | 'reason'> {
  const e = error as DialError;
  if (e.code === 'SWY_ERR_UPSTREAM_IDENTITY')
    return { kind: 'identity', code: e.reason ?? 'policy', reason: e.message };
  if (e.code === 'SWY_ERR_UPSTREAM_TLS') return { kind: 'tls', reason: e.message };
  return { kind: 'connect', reason: e.message };
}
