import type { Endpoint } from './decide.js';

/** One ready endpoint of a Service: a pod's address, the port its app serves, who it must be. */
export interface ServiceEndpoint {
  /** The pod's address. */
  address: string;
  /** The target port on the pod (a named target port already resolved for this endpoint). */
  port: number;
  /** The SPIFFE IDs the pod's sidecar must present (from its namespace and service account). */
  identities: readonly string[];
  /** What is known of the pod behind it: see {@link EndpointState}. */
  state: EndpointState;
}

/**
 * What the resolver knows of an endpoint's pod. `mesh`: a known pod that opted in (a Switchyard
 * sidecar serves its HBONE port, `identities` pinned). `plain`: a known pod that did not opt in
 * (plain TCP, where the policy allows it). `unverified`: no known pod owns the address (no
 * `targetRef`, a pod not yet or no longer seen): never a candidate, whatever the policy.
 */
export type EndpointState = 'mesh' | 'plain' | 'unverified';

/** What a captured destination is, as the resolver knows it. */
export interface ServiceDestination {
  kind: 'service';
  /** `namespace/name`, the label of the per-service metrics. */
  service: string;
  /** The endpoints that may take new connections now (ready, or serving while terminating). */
  endpoints: readonly ServiceEndpoint[];
}

/**
 * The resolver cannot tell yet whether the destination is a Service (its Service list is not
 * synced): the data plane refuses the connection (`services-not-synced`) rather than decide by
 * address alone.
 */
export interface UnsyncedDestination {
  kind: 'not-synced';
}

/**
 * What the data plane asks at connection time about a captured outbound destination (ztunnel
 * answers this from xDS; the agent from its Service and EndpointSlice watch). `undefined`: not a
 * Service address (a pod, a headless Service, outside the cluster): handled as before.
 * `not-synced`: unknown yet, refused. A resolver that throws is refused too (`resolver-failed`).
 * Called on the hot path: it must answer from memory, without I/O.
 */
export interface DestinationResolver {
  resolve(destination: Endpoint): ServiceDestination | UnsyncedDestination | undefined;
}

/**
 * What a carrier gets for a connection to a Service: where to try, in order, and the hooks that
 * keep endpoint choice and the per-service metrics right.
 */
export interface ServiceRoute {
  service: string;
  /** The chosen endpoint, then at most one other, tried once if the first refuses or times out. */
  attempts: readonly ServiceEndpoint[];
  /**
   * Counts a connection to `endpoint` as open (endpoint choice reads it) from its first attempt
   * on, so endpoints being tried are not taken for idle ones; returns its release.
   */
  hold(endpoint: ServiceEndpoint): () => void;
  /** An attempt on `endpoint` failed: endpoint choice avoids it for a short while. */
  failed(endpoint: ServiceEndpoint): void;
  /** The carrier gave up on `failed` and tries the next attempt. */
  retried(failed: ServiceEndpoint, reason: string): void;
}
