import type { IpFamily } from '@switchyard/core';
import type { AuthorizationPolicy } from '@switchyard/mesh';
import type { Endpoint } from './decide.js';

/** A listener's address. */
export interface ListenSpec {
  /** Port; 0 picks a free one (tests). */
  port: number;
  /** Address to bind. Default: the wildcard of each family the workload has. */
  host?: string;
  /** Families to listen on. Default both; IPv6 is skipped with a warning where the target has none. */
  families?: IpFamily[];
}

/** Captured inbound: peers arrive here (mTLS), or plain where the policy allows. */
export interface InboundPolicy extends Omit<ListenSpec, 'port'> {
  /**
   * Port captured inbound connections arrive on. Omit when peers arrive only on the carrier's
   * own listener (HBONE's 15008): the rest of this policy still governs what they may do.
   */
  port?: number;
  /** Which peers may connect. Default: our trust domain and namespace. */
  authorization?: AuthorizationPolicy;
  /** Sources allowed in plain TCP (kubelet probes), as CIDRs. Default none. */
  plaintextSources?: string[];
  /** Local ports that accept plain TCP from anyone. Default none. */
  plaintextPorts?: number[];
  /** Deliver every connection here instead of its original destination (benchmarks, tests). */
  fixedDestination?: Endpoint;
  /** Connect to the app from the peer's own address where the driver can. Default true. */
  preserveSource?: boolean;
}

/** Captured outbound: the workload's own connections, carried to their peers. */
export interface OutboundPolicy extends ListenSpec {
  /** Destinations inside the mesh. Default none. */
  meshCidrs?: string[];
  /** Let connections outside the mesh through in plain TCP. Default false: refuse them. */
  passthroughOutsideMesh?: boolean;
  /** Allow rules for server identities, after pinning. Default: our trust domain. */
  authorization?: AuthorizationPolicy;
  /** Treat every connection as going here instead of its original destination. */
  fixedDestination?: Endpoint;
  /** Where to carry a mesh destination. Default: the carrier's (mtls: the destination; hbone: its 15008). */
  route?: (destination: Endpoint) => Endpoint;
  /** Ask the data plane's destination resolver whether a destination is a Service. Default true. */
  resolveServices?: boolean;
}

/** What a workload asks of the data plane. */
export interface WorkloadPolicy {
  inbound?: InboundPolicy;
  outbound?: OutboundPolicy;
  /** Ports of the carrier's own listeners by name (`{ hbone: 15008 }`); a carrier has defaults. */
  ports?: Record<string, number>;
}
