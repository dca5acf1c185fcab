import type { IdentityResolver } from '@switchyard/dataplane';
import { formatSpiffeId } from '@switchyard/mesh';
import type { PodRecord, PodView } from '../sources/pod-index.js';
import { intern } from '../util/intern.js';

/**
 * The data plane's {@link IdentityResolver}, filled while the agent runs: the addresses of the
 * source's pods (every pod the Kubernetes watch sees, read from the source's own pod index, not
 * copied) and the addresses of the workloads this agent serves, each mapped to the one SPIFFE ID
 * it must present.
 */
export class PeerIdentities implements IdentityResolver {
  readonly #trustDomain: string;
  #pods: PodView | undefined;
  /** Namespace → service account → SPIFFE ID: one string per account, not one per address. */
  readonly #ids = new Map<string, Map<string, string>>();
  readonly #local: () => Iterable<{ addresses: string[]; spiffeId: string }>;

  constructor(trustDomain: string, local: () => Iterable<{ addresses: string[]; spiffeId: string }>) {
    this.#trustDomain = trustDomain;
    this.#local = local;
  }

  /** Reads the source's pods from `pods` from now on (the source keeps it current). */
  follow(pods: PodView): void {
    this.#pods = pods;
  }

  /** A pod by `namespace/name`: one address it alone holds and its identity, when the source knows it. */
  pod(id: string): { address: string; spiffeId: string } | undefined {
    const slash = id.indexOf('/');
    const pods = this.#pods;
    const p = slash > 0 ? pods?.get(id.slice(0, slash), id.slice(slash + 1)) : undefined;
    const address = p?.ips.find((ip) => pods?.ownerOf(ip) === p);
    return p && address ? { address, spiffeId: this.#spiffeId(p) } : undefined;
  }

  /** Every address with the identity it must present (the source's and this node's workloads'), sorted. */
  pinned(): Record<string, string> {
    const all = new Map<string, string>();
    for (const [address, p] of this.#pods?.owned() ?? []) all.set(address, this.#spiffeId(p));
    for (const w of this.#local()) for (const a of w.addresses) all.set(a.toLowerCase(), w.spiffeId);
    return Object.fromEntries([...all].sort(([a], [b]) => a.localeCompare(b)));
  }

  expected(address: string): readonly string[] | undefined {
    const known = this.#pods?.ownerOf(address);
    if (known) return [this.#spiffeId(known)];
    const key = address.toLowerCase();
    for (const w of this.#local()) if (w.addresses.some((a) => a.toLowerCase() === key)) return [w.spiffeId];
    return undefined;
  }

  #spiffeId(p: PodRecord): string {
    let accounts = this.#ids.get(p.namespace);
    if (!accounts) {
      accounts = new Map();
      this.#ids.set(p.namespace, accounts);
    }
    let id = accounts.get(p.serviceAccount);
    if (id === undefined) {
      id = intern(
        formatSpiffeId({
          trustDomain: this.#trustDomain,
          namespace: p.namespace,
          serviceAccount: p.serviceAccount,
        }),
      );
      accounts.set(p.serviceAccount, id);
    }
    return id;
  }
}
