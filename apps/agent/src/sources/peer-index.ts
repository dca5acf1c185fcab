import type { V1Pod } from '@kubernetes/client-node';
import type { PeerIdentity } from '../identity/peer-identities.js';

/** A pod as the index keeps it. */
interface IndexedPod {
  namespace: string;
  pod: string;
  serviceAccount: string;
  /** Its own opt-in label value, when it has one. */
  optIn: string | undefined;
  /** Addresses it claims: none for host-network or finished pods. */
  ips: readonly string[];
}

/** Addresses whose identity changed, each with its identity now (undefined: none any more). */
export type PeerChanges = Map<string, PeerIdentity | undefined>;

const FINISHED = new Set(['Succeeded', 'Failed']);

/**
 * {@link podPeers} kept per pod: each pod or namespace event changes only the addresses it touches
 * and says which, so the identity maps downstream are updated per address instead of rebuilt from
 * every pod. Same rules: host-network and finished pods claim nothing; an address two live pods
 * claim at once belongs to no one until one of them goes; a pod is in the mesh by its own opt-in
 * label, else its namespace's.
 */
export class PeerIndex {
  readonly #optIn: { label: string; value: string };
  readonly #pods = new Map<string, IndexedPod>();
  /** The pods claiming each address (nearly always one). */
  readonly #claims = new Map<string, string[]>();
  readonly #byNamespace = new Map<string, Set<string>>();
  readonly #namespaceOptIn = new Map<string, string | undefined>();
  /** Every address with exactly one claimant → its identity. */
  readonly peers = new Map<string, PeerIdentity>();

  constructor(optIn: { label: string; value: string }) {
    this.#optIn = optIn;
  }

  /** A pod added or changed (as the informer keeps it). */
  upsertPod(p: V1Pod, changes: PeerChanges): void {
    const namespace = p.metadata?.namespace;
    const name = p.metadata?.name;
    if (!namespace || !name) return;
    const finished = FINISHED.has(p.status?.phase ?? '') || p.spec?.hostNetwork === true;
    const next: IndexedPod = {
      namespace,
      pod: name,
      serviceAccount: p.spec?.serviceAccountName || 'default',
      optIn: p.metadata?.labels?.[this.#optIn.label],
      ips: finished
        ? []
        : [...new Set((p.status?.podIPs ?? []).map((i) => i.ip).filter((ip): ip is string => !!ip))],
    };
    const key = `${namespace}/${name}`;
    const before = this.#pods.get(key);
    this.#pods.set(key, next);
    const members = this.#byNamespace.get(namespace) ?? new Set<string>();
    this.#byNamespace.set(namespace, members.add(key));
    for (const ip of before?.ips ?? []) if (!next.ips.includes(ip)) this.#unclaim(ip, key, changes);
    for (const ip of next.ips) {
      if (!before?.ips.includes(ip)) this.#claim(ip, key);
      this.#settle(ip, changes);
    }
  }

  /** A pod deleted. */
  deletePod(p: V1Pod, changes: PeerChanges): void {
    const key = `${p.metadata?.namespace}/${p.metadata?.name}`;
    const before = this.#pods.get(key);
    if (!before) return;
    this.#pods.delete(key);
    this.#byNamespace.get(before.namespace)?.delete(key);
    for (const ip of before.ips) this.#unclaim(ip, key, changes);
  }

  /** A namespace's opt-in label now (undefined: none, or the namespace is gone). */
  setNamespace(namespace: string, optIn: string | undefined, changes: PeerChanges): void {
    if (this.#namespaceOptIn.get(namespace) === optIn && this.#namespaceOptIn.has(namespace)) return;
    this.#namespaceOptIn.set(namespace, optIn);
    for (const key of this.#byNamespace.get(namespace) ?? [])
      for (const ip of this.#pods.get(key)?.ips ?? []) this.#settle(ip, changes);
  }

  #claim(ip: string, key: string): void {
    const list = this.#claims.get(ip);
    if (!list) this.#claims.set(ip, [key]);
    else if (!list.includes(key)) list.push(key);
  }

  #unclaim(ip: string, key: string, changes: PeerChanges): void {
    const left = (this.#claims.get(ip) ?? []).filter((k) => k !== key);
    if (left.length > 0) this.#claims.set(ip, left);
    else this.#claims.delete(ip);
    this.#settle(ip, changes);
  }

  /** Recomputes one address's identity and records it when it changed. */
  #settle(ip: string, changes: PeerChanges): void {
    const claims = this.#claims.get(ip) ?? [];
    const owner = claims.length === 1 ? this.#pods.get(claims[0] as string) : undefined;
    const next = owner ? this.#identity(owner) : undefined;
    const before = this.peers.get(ip);
    if (samePeer(before, next)) return;
    if (next) this.peers.set(ip, next);
    else this.peers.delete(ip);
    changes.set(ip, next);
  }

  #identity(p: IndexedPod): PeerIdentity {
    const own = p.optIn;
    const inMesh =
      own !== undefined
        ? own === this.#optIn.value
        : this.#namespaceOptIn.get(p.namespace) === this.#optIn.value;
    return { namespace: p.namespace, serviceAccount: p.serviceAccount, pod: p.pod, inMesh };
  }
}

function samePeer(a: PeerIdentity | undefined, b: PeerIdentity | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.namespace === b.namespace &&
    a.serviceAccount === b.serviceAccount &&
    a.pod === b.pod &&
    a.inMesh === b.inMesh
  );
}
