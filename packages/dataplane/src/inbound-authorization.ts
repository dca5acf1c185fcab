import type { Endpoint } from './decide.js';

/** One inbound connection or stream to authorize (ztunnel's RBAC connection). */
export interface InboundRequest {
  /** The workload connected to (its id in the data plane). */
  workload: string;
  /** The client's address: the TCP peer, never a header. */
  source: string;
  /** The workload's address and port the client asked for. */
  destination: Endpoint;
  /** The client's one SPIFFE ID; absent for plain TCP. */
  peer?: string | undefined;
}

/** An inbound decision from an {@link InboundAuthorizer}. */
export interface InboundVerdict {
  allowed: boolean;
  reason: string;
  /** The policy that decided (`namespace/name`), when one did. */
  policy?: string;
}

/**
 * Decides inbound connections from outside the data plane (the agent's cluster policies), in
 * place of the workloads' allow-lists. Asked once per connection (per HBONE stream, with its port)
 * on the hot path: it must answer synchronously and quickly. It may let plain TCP in (a
 * PERMISSIVE workload): then a carrier without a handshake of its own on the captured port
 * (HBONE) delivers it.
 */
export interface InboundAuthorizer {
  authorize(request: InboundRequest): InboundVerdict;
}
