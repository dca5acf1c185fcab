import type { V1Pod } from '@kubernetes/client-node';
import type { InformerStore } from '../kubernetes/store-cache.js';
import { intern } from '../util/intern.js';

/** A pod as the index keeps it: who it is, whether the mesh serves it, the addresses it claims. */
export interface PodRecord {
  readonly namespace: string;
  readonly name: string;
  readonly serviceAccount: string;
  /** Addresses it claims (lower case): none for host-network or finished pods. */
  readonly ips: readonly string[];
  /** In the mesh: by its own opt-in label, or without one, by its namespace's. */
  readonly inMesh: boolean;
}

/** What the readers of a {@link PodIndex} see (the identity resolver, the Service directory). */
export interface PodView {
  /** The pod that alone claims `address`, if one does (two live claimants: none until one goes). */
  ownerOf(address: string): PodRecord | undefined;
  /** A pod by namespace and name. */
  get(namespace: string, name: string): PodRecord | undefined;
  /** Every address with exactly one claimant, with that pod. */
  owned(): Iterable<[string, PodRecord]>;
}

/** The pods whose identity, mesh membership or uncontested addresses an event changed. */
export type PodChanges = Set<PodRecord>;

/** A record as kept: what readers see, and what only the index and a relist need. */
interface KeptPod extends PodRecord {
  serviceAccount: string;
  ips: readonly string[];
  inMesh: boolean;
  /** Its own opt-in label: undefined when it has none, else whether it says "in". */
  ownOptIn: boolean | undefined;
  resourceVersion: string | undefined;
}

const FINISHED = new Set(['Succeeded', 'Failed']);
const NONE: readonly string[] = Object.freeze([]);

/**
 * Every pod of the cluster, once: one record per pod in a map per namespace (no `namespace/name`
 * key strings), and each address's claimants. The pod informer keeps its objects here instead of
 * in a cache of its own ({@link InformerStore}: a relist is diffed against these records), and the
 * identity resolver and the Service directory read it instead of keeping copies. Rules:
 * host-network and finished pods claim nothing; an address two live pods claim at once belongs to
 * no one until one of them goes; a pod is in the mesh by its own opt-in label, else its
 * namespace's. Each change says which pods it touched, so readers re-index only those.
 */
export class PodIndex implements PodView, InformerStore {
  readonly #optIn: { label: string; value: string };
  readonly #pods = new Map<string, Map<string, KeptPod>>();
  /** The pods claiming each address: nearly always one, held without an array. */
  readonly #claims = new Map<string, KeptPod | KeptPod[]>();
  readonly #namespaceOptIn = new Map<string, string | undefined>();

  constructor(optIn: { label: string; value: string }) {
    this.#optIn = optIn;
  }

  /** How many pods it holds. */
  get size(): number {
    let n = 0;
    for (const pods of this.#pods.values()) n += pods.size;
    return n;
  }

  /** A pod added or changed (as the informer's transform gives it). */
  upsertPod(p: V1Pod, changes: PodChanges): void {
    const namespace = p.metadata?.namespace;
    const name = p.metadata?.name;
    if (!namespace || !name) return;
    let pods = this.#pods.get(namespace);
    if (!pods) {
      pods = new Map();
      this.#pods.set(intern(namespace), pods);
    }
    const label = p.metadata?.labels?.[this.#optIn.label];
    const ownOptIn = label === undefined ? undefined : label === this.#optIn.value;
    let r = pods.get(name);
    if (!r) {
      r = {
        namespace: intern(namespace),
        name,
        serviceAccount: '',
        ips: NONE,
        inMesh: false,
        ownOptIn,
        resourceVersion: undefined,
      };
      pods.set(name, r);
    }
    const serviceAccount = intern(p.spec?.serviceAccountName || 'default');
    r.ownOptIn = ownOptIn;
    const inMesh = this.#inMesh(r);
    if ((r.serviceAccount !== serviceAccount || r.inMesh !== inMesh) && r.ips.length > 0) changes.add(r);
    r.serviceAccount = serviceAccount;
    r.inMesh = inMesh;
    r.resourceVersion = p.metadata?.resourceVersion;
    this.#readdress(r, claimedIps(p), changes);
  }

  /** A pod deleted (only its namespace and name are read). */
  deletePod(p: V1Pod, changes: PodChanges): void {
    const namespace = p.metadata?.namespace ?? '';
    const pods = this.#pods.get(namespace);
    const r = pods?.get(p.metadata?.name ?? '');
    if (!pods || !r) return;
    pods.delete(r.name);
    if (pods.size === 0) this.#pods.delete(namespace);
    this.#readdress(r, NONE, changes);
  }

  /** A namespace's opt-in label now (undefined: none, or the namespace is gone). */
  setNamespace(namespace: string, optIn: string | undefined, changes: PodChanges): void {
    if (this.#namespaceOptIn.get(namespace) === optIn && this.#namespaceOptIn.has(namespace)) return;
    if (optIn === undefined) this.#namespaceOptIn.delete(namespace);
    else this.#namespaceOptIn.set(intern(namespace), intern(optIn));
    for (const r of this.#pods.get(namespace)?.values() ?? []) {
      const inMesh = this.#inMesh(r);
      if (inMesh === r.inMesh) continue;
      r.inMesh = inMesh;
      if (r.ips.length > 0) changes.add(r);
    }
  }

  ownerOf(address: string): PodRecord | undefined {
    const c = this.#claims.get(address.toLowerCase());
    return c === undefined || Array.isArray(c) ? undefined : c;
  }

  get(namespace: string, name: string): PodRecord | undefined {
    return this.#pods.get(namespace)?.get(name);
  }

  *owned(): Generator<[string, PodRecord]> {
    for (const [address, c] of this.#claims) if (!Array.isArray(c)) yield [address, c];
  }

  version(namespace: string, name: string): string | undefined {
    return this.#pods.get(namespace)?.get(name)?.resourceVersion;
  }

  has(namespace: string, name: string): boolean {
    return this.#pods.get(namespace)?.has(name) === true;
  }

  namespaces(): Iterable<string> {
    return this.#pods.keys();
  }

  names(namespace: string): Iterable<string> {
    return this.#pods.get(namespace)?.keys() ?? NONE;
  }

  /** Moves a pod's claims from the addresses it had to `ips`; every pod whose ownership changed is recorded. */
  #readdress(r: KeptPod, ips: readonly string[], changes: PodChanges): void {
    const before = r.ips;
    if (before.length === ips.length && before.every((ip, i) => ip === ips[i])) return;
    r.ips = ips;
    changes.add(r);
    for (const ip of before) if (!ips.includes(ip)) this.#unclaim(ip, r, changes);
    for (const ip of ips) if (!before.includes(ip)) this.#claim(ip, r, changes);
  }

  #claim(ip: string, r: KeptPod, changes: PodChanges): void {
    const c = this.#claims.get(ip);
    if (c === undefined) return void this.#claims.set(ip, r);
    // A second claimant: whoever held the address alone does not any more.
    const all = Array.isArray(c) ? c : [c];
    for (const other of all) changes.add(other);
    if (!all.includes(r)) all.push(r);
    this.#claims.set(ip, all);
  }

  #unclaim(ip: string, r: KeptPod, changes: PodChanges): void {
    const c = this.#claims.get(ip);
    if (c === undefined || c === r) return void this.#claims.delete(ip);
    if (!Array.isArray(c)) return;
    const left = c.filter((x) => x !== r);
    // One claimant left: it holds the address alone now.
    if (left.length === 1) changes.add(left[0] as KeptPod);
    this.#claims.set(ip, left.length === 1 ? (left[0] as KeptPod) : left);
  }

  #inMesh(r: KeptPod): boolean {
    return r.ownOptIn ?? this.#namespaceOptIn.get(r.namespace) === this.#optIn.value;
  }
}

/** The addresses a pod claims: its pod IPs, lower case, once each; none when host-network or finished. */
function claimedIps(p: V1Pod): readonly string[] {
  if (FINISHED.has(p.status?.phase ?? '') || p.spec?.hostNetwork === true) return NONE;
  const ips: string[] = [];
  for (const { ip } of p.status?.podIPs ?? []) {
    const address = ip?.toLowerCase();
    if (address && !ips.includes(address)) ips.push(address);
  }
  return ips.length > 0 ? ips : NONE;
}
