import type { IdentityResolver } from '@switchyard/dataplane';
import { formatSpiffeId } from '@switchyard/mesh';

/** An address's identity, as a source knows it. */
export interface PeerIdentity {
  namespace: string;
  serviceAccount: string;
  /** The pod's name (Kubernetes), so an EndpointSlice's `targetRef` finds it. */
  pod?: string;
  /** The pod is opted in to the mesh (pod or namespace label). */
  inMesh?: boolean;
}

/**
 * The data plane's {@link IdentityResolver}, filled while the agent runs: the addresses a source
 * reports (every pod the Kubernetes watch sees) and the addresses of the workloads this agent
 * serves, each mapped to the one SPIFFE ID it must present.
 */
export class PeerIdentities implements IdentityResolver {
  readonly #trustDomain: string;
  #fromSource = new Map<string, string>();
  readonly #local: () => Iterable<{ addresses: string[]; spiffeId: string }>;

  constructor(trustDomain: string, local: () => Iterable<{ addresses: string[]; spiffeId: string }>) {
    this.#trustDomain = trustDomain;
    this.#local = local;
  }

  /** Replaces what the source said. */
  replace(peers: ReadonlyMap<string, PeerIdentity>): void {
    const next = new Map<string, string>();
    for (const [address, p] of peers)
      next.set(address.toLowerCase(), formatSpiffeId({ trustDomain: this.#trustDomain, ...p }));
    this.#fromSource = next;
  }

  /** Every address with the identity it must present (the source's and this node's workloads'), sorted. */
  pinned(): Record<string, string> {
    const all = new Map(this.#fromSource);
    for (const w of this.#local()) for (const a of w.addresses) all.set(a.toLowerCase(), w.spiffeId);
    return Object.fromEntries([...all].sort(([a], [b]) => a.localeCompare(b)));
  }

  expected(address: string): readonly string[] | undefined {
    const key = address.toLowerCase();
    const known = this.#fromSource.get(key);
    if (known) return [known];
    for (const w of this.#local()) if (w.addresses.some((a) => a.toLowerCase() === key)) return [w.spiffeId];
    return undefined;
  }
}
