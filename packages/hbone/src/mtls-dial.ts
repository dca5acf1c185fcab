import type { Socket } from 'node:net';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { SocketOps, Target } from '@switchyard/core';
import {
  type AuthorizationPolicy,
  authorize,
  type CertificateStore,
  defaultOutboundPolicy,
  parseSpiffeId,
  type SpiffeId,
  spiffeIdsFromSan,
} from '@switchyard/mesh';
import { formatAuthority, type HboneAuthority } from './authority.js';
import { HboneConnectError } from './hbone-client-error.js';

/** What {@link dialMtls} needs. */
export interface MtlsDialOptions {
  socketOps: SocketOps;
  certificates: CertificateStore;
  peer: HboneAuthority;
  /** Which server identities are accepted. Default: our trust domain. */
  authorization?: AuthorizationPolicy | undefined;
  target?: Target | undefined;
  mark?: number | undefined;
}

/**
 * Dials `peer` through the driver's socket ops (so capture lets it through), opens TLS 1.3 with
 * ALPN h2 and the workload's certificate, and checks the server's SPIFFE ID against the policy.
 * Resolves with the TLS socket and its raw socket; anything short of an authorized h2 peer throws.
 */
export async function dialMtls(o: MtlsDialOptions): Promise<{ tls: TLSSocket; raw: Socket }> {
  const cert = o.certificates.current;
  const raw = await o.socketOps.dial({
    destination: o.peer,
    ...(o.target ? { target: o.target } : {}),
    ...(o.mark !== undefined ? { mark: o.mark } : {}),
  });
  raw.setNoDelay(true);
  const tls = tlsConnect({
    socket: raw,
    cert: cert.chain,
    key: cert.key,
    ca: cert.bundle,
    minVersion: 'TLSv1.3',
    ALPNProtocols: ['h2'],
    // The server is named by its SPIFFE ID, checked below, not by a DNS name.
    checkServerIdentity: () => undefined,
  } as ConnectionOptions);
  await new Promise<void>((resolve, reject) => {
    tls.once('secureConnect', resolve);
    tls.once('error', reject);
  });
  const self = parseSpiffeId(cert.spiffeId) as SpiffeId;
  const serverId = spiffeIdsFromSan(tls.getPeerCertificate()?.subjectaltname)[0];
  const decision = authorize(o.authorization ?? defaultOutboundPolicy(self), self, serverId);
  if (!decision.allowed || tls.alpnProtocol !== 'h2') {
    tls.destroy();
    throw new HboneConnectError(
      decision.allowed
        ? `${formatAuthority(o.peer)} did not agree on h2`
        : `${formatAuthority(o.peer)} refused: ${decision.reason}`,
    );
  }
  return { tls, raw };
}
