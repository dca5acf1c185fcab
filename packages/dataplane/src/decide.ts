import { isIP } from 'node:net';
import type { Endpoint } from '@switchyard/core';

/** An address and port (core's one `{ address, port }`). */
export type { Endpoint };

/** What happens to a captured outbound connection. */
export type OutboundDecision =
  | { kind: 'mesh' }
  | { kind: 'passthrough'; reason: string }
  | { kind: 'deny'; reason: string; code: 'outside-mesh' | 'loop' };

/** The facts {@link decideOutbound} needs, all plain data. */
export interface OutboundFacts {
  destination: Endpoint;
  /** The destination is inside the mesh (its CIDRs). */
  inMesh: boolean;
  passthroughOutsideMesh: boolean;
  /** The data plane's own ports on this workload (15001, 15006, 15008, admin). */
  proxyPorts: readonly number[];
  /** Addresses of the workload itself (a connection to its own proxy port would loop). */
  ownAddresses: readonly string[];
}

const isLoopback = (address: string) =>
  address === '::1' || address.startsWith('127.') || address === 'localhost';

/** Mesh, passthrough or deny for a captured outbound connection (linkerd's prevent-loop first). */
export function decideOutbound(f: OutboundFacts): OutboundDecision {
  const own = isLoopback(f.destination.address) || f.ownAddresses.includes(f.destination.address);
  if (own && f.proxyPorts.includes(f.destination.port))
    return {
      kind: 'deny',
      code: 'loop',
      reason: `${f.destination.port} is the proxy's own port: refusing a loop`,
    };
  if (f.inMesh) return { kind: 'mesh' };
  if (f.passthroughOutsideMesh) return { kind: 'passthrough', reason: 'outside the mesh: plaintext allowed' };
  return {
    kind: 'deny',
    code: 'outside-mesh',
    reason: 'destination is outside the mesh and passthrough is off',
  };
}

/** What happens to a connection captured inbound (before any TLS). */
export type InboundDecision = { kind: 'plaintext'; reason: string } | { kind: 'mesh' };

/** The facts {@link decideInbound} needs. */
export interface InboundFacts {
  /** The source is in the policy's plaintext sources (kubelet probes). */
  sourceAllowedPlain: boolean;
  /** The destination port is one of the policy's plaintext ports. */
  portAllowedPlain: boolean;
}

/** Plaintext (only where the policy says so) or mesh: the carrier authenticates the peer. */
export function decideInbound(f: InboundFacts): InboundDecision {
  if (f.portAllowedPlain) return { kind: 'plaintext', reason: 'plaintext port' };
  if (f.sourceAllowedPlain) return { kind: 'plaintext', reason: 'plaintext source' };
  return { kind: 'mesh' };
}

/** Whether an HBONE server may dial the `:authority` a peer asked for. */
export type AuthorityDecision =
  | { kind: 'allow' }
  | { kind: 'deny'; status: 400 | 503; code: 'not-this-workload' | 'proxy-port'; reason: string };

/** The facts {@link decideAuthority} needs. */
export interface AuthorityFacts {
  authority: Endpoint;
  /** The local address the HBONE connection arrived on. */
  arrivedOn: string;
  /** Every address the workload owns (pod IPs). */
  workloadAddresses: readonly string[];
  /** The data plane's own ports, never dialled on a peer's behalf. */
  proxyPorts: readonly number[];
}

const canonical = (address: string) =>
  address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address.toLowerCase();

/**
 * ztunnel's rule: an HBONE server only dials the workload it serves — the authority IP must be
 * the address the connection arrived on or one the workload owns (else 400) — and never the
 * proxy's own ports (503), which would relay a peer into a loop.
 */
export function decideAuthority(f: AuthorityFacts): AuthorityDecision {
  const address = canonical(f.authority.address);
  const owned = [f.arrivedOn, ...f.workloadAddresses].map(canonical);
  if (!owned.includes(address))
    return {
      kind: 'deny',
      status: 400,
      code: 'not-this-workload',
      reason: `${f.authority.address} is not an address of the workload served here`,
    };
  if (f.proxyPorts.includes(f.authority.port))
    return {
      kind: 'deny',
      status: 503,
      code: 'proxy-port',
      reason: `port ${f.authority.port} is the proxy's own`,
    };
  return { kind: 'allow' };
}
