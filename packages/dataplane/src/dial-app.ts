import type { Socket } from 'node:net';
import type { Endpoint } from './decide.js';
import type { WorkloadParts } from './workload-parts.js';

/**
 * Dials the workload's app for an inbound connection, inside the workload's network, from
 * `client` (the peer's address) only where the policy keeps sources.
 */
export function dialApp(
  parts: WorkloadParts,
  destination: Endpoint,
  client: string,
  signal?: AbortSignal,
): Promise<Socket> {
  const inbound = parts.spec.policy.inbound;
  const keep = inbound?.preserveSource !== false && !inbound?.fixedDestination;
  return parts.inputs.upstream.dial({
    destination,
    source: keep ? client : undefined,
    target: parts.spec.target,
    signal,
  });
}
