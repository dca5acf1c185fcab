import type { TLSSocket } from 'node:tls';
import { spiffeIdsFromSan } from '@switchyard/mesh';

/**
 * Names why an inbound TLS handshake failed, for metrics and logs: `no-certificate` (the peer
 * showed none), `untrusted` (another CA, expired), or `protocol` (not TLS 1.3, garbage, a reset).
 */
export function classifyTlsFailure(error: Error, tls: TLSSocket): { code: string; reason: string } {
  const text = `${error.message} ${(error as { code?: string }).code ?? ''}`;
  const why = (tls as TLSSocket & { authorizationError?: string }).authorizationError;
  const presented = spiffeIdsFromSan(tls.getPeerCertificate?.()?.subjectaltname)[0];
  if (/PEER_DID_NOT_RETURN_A_CERTIFICATE|certificate required/i.test(text))
    return { code: 'no-certificate', reason: 'the peer presented no certificate' };
  if (why || /certificate|CERT_|unknown ca|expired/i.test(text))
    return {
      code: 'untrusted',
      reason: `untrusted peer certificate${why ? ` (${why})` : ''}${presented ? ` for ${presented}` : ''}: ${error.message}`,
    };
  return { code: 'protocol', reason: error.message };
}
