import type { ServiceEndpoint } from './destination-resolver.js';

/** Why a connection to a Service is refused before any endpoint is tried; stable names (metrics label). */
export type ServiceDenyCode = 'no-endpoints' | 'endpoint-outside-mesh' | 'endpoint-unverified';

/** What happens to a captured connection whose destination is a Service. */
export type ServiceDecision =
  | { kind: 'tunnel'; attempts: ServiceEndpoint[] }
  | { kind: 'passthrough'; endpoint: ServiceEndpoint; reason: string }
  | { kind: 'deny'; code: ServiceDenyCode; reason: string };

/** The facts {@link decideService} needs, all plain data (and the choice, injected). */
export interface ServiceFacts {
  service: string;
  endpoints: readonly ServiceEndpoint[];
  passthroughOutsideMesh: boolean;
  /** Endpoint choice: the chosen endpoint first, then the fallback (see `pickEndpoints`). */
  pick: (candidates: readonly ServiceEndpoint[]) => ServiceEndpoint[];
}

/** In the mesh with an identity to pin: the only endpoints a tunnel may go to. */
const tunnels = (e: ServiceEndpoint) => e.state === 'mesh' && e.identities.length > 0;

/**
 * Tunnel, passthrough or deny for a connection to a Service. Endpoints in the mesh are candidates
 * when they have an identity to pin; known pods outside the mesh only where the policy allows
 * plain TCP; unverified endpoints (no known pod owns the address) never. A Service with no
 * candidate is refused (fail closed). A fallback is kept only when it is in the mesh: a tunnel
 * never falls back to plain TCP.
 */
export function decideService(f: ServiceFacts): ServiceDecision {
  if (f.endpoints.length === 0)
    return { kind: 'deny', code: 'no-endpoints', reason: `service ${f.service} has no ready endpoint` };
  const candidates = f.endpoints.filter(
    (e) => tunnels(e) || (f.passthroughOutsideMesh && e.state === 'plain'),
  );
  if (candidates.length === 0) return refusal(f);
  const [chosen, ...rest] = f.pick(candidates) as [ServiceEndpoint, ...ServiceEndpoint[]];
  if (!tunnels(chosen))
    return {
      kind: 'passthrough',
      endpoint: chosen,
      reason: 'service endpoint outside the mesh: plaintext allowed',
    };
  return { kind: 'tunnel', attempts: [chosen, ...rest.filter(tunnels)] };
}

/** Why no endpoint is a candidate: a known pod outside the mesh (policy), else none verified. */
function refusal(f: ServiceFacts): ServiceDecision {
  if (f.endpoints.some((e) => e.state === 'plain'))
    return {
      kind: 'deny',
      code: 'endpoint-outside-mesh',
      reason: `every usable endpoint of ${f.service} is outside the mesh and passthrough is off`,
    };
  return {
    kind: 'deny',
    code: 'endpoint-unverified',
    reason: `no ready endpoint of ${f.service} belongs to a known pod with an identity to pin`,
  };
}
