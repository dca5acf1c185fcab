import type { ServiceEndpoint } from './destination-resolver.js';

/** What happens to a captured connection whose destination is a Service. */
export type ServiceDecision =
  | { kind: 'tunnel'; attempts: ServiceEndpoint[] }
  | { kind: 'passthrough'; endpoint: ServiceEndpoint; reason: string }
  | { kind: 'deny'; code: 'no-endpoints' | 'endpoint-outside-mesh'; reason: string };

/** The facts {@link decideService} needs, all plain data (and the choice, injected). */
export interface ServiceFacts {
  service: string;
  endpoints: readonly ServiceEndpoint[];
  passthroughOutsideMesh: boolean;
  /** Endpoint choice: the chosen endpoint first, then the fallback (see `pickEndpoints`). */
  pick: (candidates: readonly ServiceEndpoint[]) => ServiceEndpoint[];
}

/**
 * Tunnel, passthrough or deny for a connection to a Service. Endpoints outside the mesh are
 * candidates only where the policy allows plain TCP; otherwise they are left out, and a Service
 * with nothing else is refused (fail closed). A fallback is kept only when it is in the mesh:
 * a tunnel never falls back to plain TCP.
 */
export function decideService(f: ServiceFacts): ServiceDecision {
  if (f.endpoints.length === 0)
    return { kind: 'deny', code: 'no-endpoints', reason: `service ${f.service} has no ready endpoint` };
  const candidates = f.passthroughOutsideMesh ? f.endpoints : f.endpoints.filter((e) => e.inMesh);
  if (candidates.length === 0)
    return {
      kind: 'deny',
      code: 'endpoint-outside-mesh',
      reason: `every ready endpoint of ${f.service} is outside the mesh and passthrough is off`,
    };
  const [chosen, ...rest] = f.pick(candidates) as [ServiceEndpoint, ...ServiceEndpoint[]];
  if (!chosen.inMesh)
    return {
      kind: 'passthrough',
      endpoint: chosen,
      reason: 'service endpoint outside the mesh: plaintext allowed',
    };
  return { kind: 'tunnel', attempts: [chosen, ...rest.filter((e) => e.inMesh)] };
}
