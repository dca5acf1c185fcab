import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { spiffeIdsFromSan } from '@switchyard/mesh';
import type { PeerSession } from './carrier.js';
import { singleSpiffeId } from './identity.js';
import { spliceOutcome } from './relay.js';

/**
 * The peer session of a TLS connection a JavaScript carrier terminated on `raw`: its one SPIFFE
 * ID, delivery by splicing the TLS stream to the app, and refusal by closing `raw`.
 */
export function tlsSession(raw: Socket, tls: TLSSocket): PeerSession {
  const one = singleSpiffeId(spiffeIdsFromSan(tls.getPeerCertificate()?.subjectaltname));
  return {
    peer: one.id,
    ...(one.reason ? { identityError: one.reason } : {}),
    outer: tls,
    async deliver(app) {
      if (tls.destroyed) {
        app.destroy();
        return undefined;
      }
      return spliceOutcome(tls, app);
    },
    async refuse() {
      raw.destroy();
    },
  };
}
