import {
  type Accepted,
  abort,
  type CarrierContext,
  type Endpoint,
  formatEndpoint,
  outboundFailure,
  type ServiceEndpoint,
  type ServiceRoute,
} from '@switchyard/dataplane/carrier';
import { tunnelStatusCode } from './hbone-client-error.js';
import { HBONE_PORT } from './settings.js';

/** One place to open a tunnel: the HBONE peer, the `:authority`, and the Service endpoint it stands for. */
export interface TunnelAttempt {
  peer: Endpoint;
  authority: Endpoint;
  endpoint?: ServiceEndpoint;
}

/**
 * Where a captured connection's tunnel may open, in order: each Service endpoint at
 * `podIP:15008` with `:authority` `podIP:targetPort`, or the destination itself, reached through
 * the policy's route or at its own 15008. Shared by the JavaScript and native HBONE carriers.
 */
export function tunnelAttempts(
  destination: Endpoint,
  route: ServiceRoute | undefined,
  policyRoute: ((destination: Endpoint) => Endpoint | undefined) | undefined,
): TunnelAttempt[] {
  if (route)
    return route.attempts.map((e) => ({
      endpoint: e,
      authority: { address: e.address, port: e.port },
      peer: { address: e.address, port: HBONE_PORT },
    }));
  const peer = policyRoute?.(destination) ?? { address: destination.address, port: HBONE_PORT };
  return [{ authority: destination, peer }];
}

/** What every report of a captured connection's tunnel names: source, destination, Service. */
export function tunnelInfo(
  c: Accepted,
  destination: Endpoint,
  route?: ServiceRoute,
): { source: string; destination: string; service?: string } {
  return {
    source: c.client.address,
    destination: formatEndpoint(destination),
    ...(route ? { service: route.service } : {}),
  };
}

/** What a failed tunnel open carries (an identity refusal, a TLS failure, an HboneTunnelError, a socket error). */
export type TunnelFailure = { code?: string; reason?: string; status?: number; message: string };

/**
 * Accounts a tunnel that could not open, and resets the captured connection: a denied CONNECT
 * (403, RST_STREAM) must never reach the app as a clean end with no bytes, which would read as a
 * server that answered nothing.
 */
export function tunnelFailed(
  context: CarrierContext,
  c: Accepted,
  e: TunnelFailure,
  info: { source: string; destination: string; service?: string },
): void {
  const failure = outboundFailure(e);
  // A tunnel the peer answered with an error status is a failed connect, named by the status.
  const code = failure.kind === 'connect' && e.status ? tunnelStatusCode(e.status) : failure.code;
  context.outboundFailed({ ...info, ...failure, ...(code ? { code } : {}) });
  abort(c.socket);
}
