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
 * PERMISSIVE workload): a carrier without a handshake of its own on the captured port (HBONE)
 * then delivers it, and one with a handshake (mtls) tells it from TLS by its first byte.
 */
export interface InboundAuthorizer {
  authorize(request: InboundRequest): InboundVerdict;
  /**
   * Whether the workload's mTLS mode accepts plain TCP from this source on this port
   * (PERMISSIVE), before any other policy; counts nothing. Where it does, a carrier that
   * handshakes on the captured port looks at the client's first byte: TLS is handshaken as
   * always, anything else is plain TCP, then {@link authorize}d without an identity. Absent or
   * false: the captured port takes TLS only.
   */
  plainAccepted?(request: Omit<InboundRequest, 'peer'>): boolean;
}
