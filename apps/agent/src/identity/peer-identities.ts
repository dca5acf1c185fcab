import type { IdentityResolver } from '@switchyard/dataplane';
import { formatSpiffeId } from '@switchyard/mesh';
import { intern } from '../util/intern.js';

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
  /** Address (lower case) → the SPIFFE ID it must present. */
  readonly #fromSource = new Map<string, string>();
  /** Pods by `namespace/name`: an address and the identity (the pod watch's, Kubernetes source). */
  readonly #pods = new Map<string, { address: string; spiffeId: string }>();
  /** The pod each address was recorded for (so an address that goes takes its pod entry along). */
  readonly #podAt = new Map<string, string>();
  readonly #local: () => Iterable<{ addresses: string[]; spiffeId: string }>;

  constructor(trustDomain: string, local: () => Iterable<{ addresses: string[]; spiffeId: string }>) {
    this.#trustDomain = trustDomain;
    this.#local = local;
  }

  /** Replaces what the source said. */
  replace(peers: ReadonlyMap<string, PeerIdentity>): void {
    this.#fromSource.clear();
    this.#pods.clear();
    this.#podAt.clear();
    this.update(peers);
  }

  /** Takes the addresses whose identity changed (undefined: none any more), each on its own. */
  update(changes: ReadonlyMap<string, PeerIdentity | undefined>): void {
    for (const [address, p] of changes) {
      const key = address.toLowerCase();
      this.#fromSource.delete(key);
      const was = this.#podAt.get(key);
      if (was && this.#pods.get(was)?.address === address) this.#pods.delete(was);
      this.#podAt.delete(key);
      if (!p) continue;
      const spiffeId = intern(formatSpiffeId({ trustDomain: this.#trustDomain, ...p }));
      this.#fromSource.set(key, spiffeId);
      if (!p.pod) continue;
      const id = `${p.namespace}/${p.pod}`;
      this.#pods.set(id, { address, spiffeId });
      this.#podAt.set(key, id);
    }
  }

  /** A pod by `namespace/name`: one of its addresses and its identity, when the source knows it. */
  pod(id: string): { address: string; spiffeId: string } | undefined {
    return this.#pods.get(id);
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
