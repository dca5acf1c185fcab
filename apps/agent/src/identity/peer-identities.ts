import type { IdentityResolver } from '@switchyard/dataplane';
import { formatSpiffeId } from '@switchyard/mesh';
import { intern } from './intern.js';

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
  /** Pods by `namespace/name`: an address and the identity (the pod watch's, Kubernetes source). */
  #pods = new Map<string, { address: string; spiffeId: string }>();
  readonly #local: () => Iterable<{ addresses: string[]; spiffeId: string }>;

  constructor(trustDomain: string, local: () => Iterable<{ addresses: string[]; spiffeId: string }>) {
    this.#trustDomain = trustDomain;
    this.#local = local;
  }

  /** Replaces what the source said. */
  replace(peers: ReadonlyMap<string, PeerIdentity>): void {
    const next = new Map<string, string>();
    const pods = new Map<string, { address: string; spiffeId: string }>();
    for (const [address, p] of peers) {
      const spiffeId = intern(formatSpiffeId({ trustDomain: this.#trustDomain, ...p }));
      next.set(address.toLowerCase(), spiffeId);
      if (p.pod && !pods.has(`${p.namespace}/${p.pod}`))
        pods.set(`${p.namespace}/${p.pod}`, { address, spiffeId });
    }
    this.#fromSource = next;
    this.#pods = pods;
  }

  /** A pod by `namespace/name`: one of its addresses and its identity, when the source knows it. */
  pod(id: string): { address: string; spiffeId: string } | undefined {
    return this.#pods.get(id);
  }

  expected(address: string): readonly string[] | undefined {
    const key = address.toLowerCase();
    const known = this.#fromSource.get(key);
    if (known) return [known];
    for (const w of this.#local()) if (w.addresses.some((a) => a.toLowerCase() === key)) return [w.spiffeId];
    return undefined;
  }
}
