import { isIP } from 'node:net';
import type { Endpoint } from './decide.js';
import { compileInboundPolicy } from './inbound-admission.js';
import type { CompiledPeerCheck } from './server-admission.js';
import type { WorkloadParts } from './workload-parts.js';

/**
 * {@link InboundPath.serveStream}'s decisions for one workload, compiled for an engine that
 * decides HBONE streams where it runs: the peer's authorization (the inbound rules), ztunnel's
 * authority rule (an address the workload owns, never a proxy port) and, where the engine can
 * make the app's dial itself, where it dials.
 */
export interface CompiledStreamCheck extends CompiledPeerCheck {
  /** The workload's own addresses besides the one a connection arrived on, each in canonical text. */
  addresses: readonly string[];
  /** The proxy's own ports: a stream asking for one is refused (503). */
  proxyPorts: readonly number[];
  /**
   * Where the engine dials an admitted stream: the authority itself, or the inbound policy's fixed
   * destination; undefined when only the data plane can dial (another network, the client's
   * address kept as source, socket ops that dial otherwise): then the data plane decides the stream.
   */
  dial: { to: 'authority' } | { to: 'fixed'; destination: Endpoint } | undefined;
  /** The upstream connect timeout, ms. */
  connectTimeoutMs: number;
}

/**
 * Whether `address` is an IP literal in the one text form an engine prints it in (IPv4 dotted
 * quad; IPv6 lower case, zeros compressed as RFC 5952 says, no embedded IPv4): only such addresses
 * compare the same as text and as bytes.
 */
export function canonicalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return true; // node:net accepts only the plain dotted quad
  if (family !== 6 || address.includes('.') || address.includes('%')) return false;
  try {
    return new URL(`http://[${address}]/`).hostname === `[${address}]`;
  } catch {
    return false;
  }
}

/** Where the engine may dial an admitted stream of this workload itself, if anywhere. */
function engineDial(parts: WorkloadParts): CompiledStreamCheck['dial'] {
  const inbound = parts.spec.policy.inbound;
  const upstream = parts.inputs.upstream;
  const keepsSource =
    inbound?.preserveSource !== false && !inbound?.fixedDestination && upstream.preservesSource;
  if (parts.spec.target || keepsSource || !upstream.inProcessDial) return undefined;
  const fixed = inbound?.fixedDestination;
  if (!fixed) return { to: 'authority' };
  return canonicalAddress(fixed.address) ? { to: 'fixed', destination: fixed } : undefined;
}

/**
 * The stream decisions of a workload, compiled; undefined where they cannot be (the data plane's
 * authorizer decides per destination, no identity of our own, an address not in canonical text):
 * then every stream is the data plane's.
 */
export function compileStreamCheck(parts: WorkloadParts): CompiledStreamCheck | undefined {
  if (parts.inputs.authorizer) return undefined;
  const peer = compileInboundPolicy(parts.spec.policy.inbound, parts.spec.identity?.current.spiffeId ?? '');
  const addresses = parts.spec.addresses ?? [];
  if (!peer || !addresses.every(canonicalAddress)) return undefined;
  return {
    ...peer,
    addresses,
    proxyPorts: parts.proxyPorts(),
    dial: engineDial(parts),
    connectTimeoutMs: parts.inputs.timeouts.connect,
  };
}
