import type { Logger } from '@switchyard/dataplane';
import { compileAuthorizationPolicy } from './authorization-policy.js';
import {
  type PeerAuthentication,
  type PolicyWorkload,
  peerAuthenticationPolicy,
  readPeerAuthentication,
  selects,
} from './peer-authentication.js';
import { type L4Policy, policyKey } from './policy-model.js';

/** Options of {@link PolicyStore}. */
export interface PolicyStoreOptions {
  /** The namespace whose selector-less policies apply everywhere (Istio's root namespace). */
  rootNamespace: string;
  /** The mTLS mode where no PeerAuthentication sets one. */
  defaultMtls: 'STRICT' | 'PERMISSIVE';
  logger: Logger;
}

/** The policy objects kinds the store takes. */
export type PolicyKind = 'AuthorizationPolicy' | 'PeerAuthentication';

/**
 * The cluster's AuthorizationPolicies and PeerAuthentications, compiled on arrival and kept per
 * object (an event touches only its own object), indexed by namespace; what applies to a
 * workload is worked out once per workload and kept until a policy changes, so a connection's
 * check is a map read and a few matches.
 */
export class PolicyStore {
  readonly #o: PolicyStoreOptions;
  readonly #policies = new Map<string, L4Policy>();
  /** Policy keys by the namespace whose workloads they may apply to (`*` for every namespace). */
  readonly #byNamespace = new Map<string, Set<string>>();
  readonly #peerAuth = new Map<string, PeerAuthentication>();
  #cache = new Map<string, { workload: PolicyWorkload; policies: L4Policy[] }>();
  /** Set once the first list (or file) was taken: until then nothing is authorized. */
  synced = false;

  constructor(options: PolicyStoreOptions) {
    this.#o = options;
  }

  /** How many policies of each kind are held. */
  get size(): { authorizationPolicies: number; peerAuthentications: number } {
    return { authorizationPolicies: this.#policies.size, peerAuthentications: this.#peerAuth.size };
  }

  /** The root namespace in force. */
  get rootNamespace(): string {
    return this.#o.rootNamespace;
  }

  /** Takes one object as the API gives it (added or changed). */
  upsert(kind: PolicyKind, object: unknown): void {
    if (kind === 'PeerAuthentication') this.#upsertPeerAuthentication(object);
    else this.#upsertAuthorizationPolicy(object);
    this.#cache = new Map();
  }

  /** Forgets one object by `namespace/name`. */
  remove(kind: PolicyKind, key: string): void {
    if (kind === 'PeerAuthentication') this.#peerAuth.delete(key);
    else this.#drop(key);
    this.#cache = new Map();
  }

  /** Replaces everything (a file's policies). */
  replace(objects: readonly { kind: PolicyKind; object: unknown }[]): void {
    this.#policies.clear();
    this.#byNamespace.clear();
    this.#peerAuth.clear();
    for (const { kind, object } of objects) this.upsert(kind, object);
    this.synced = true;
  }

  /** Every policy that applies to a workload (its PeerAuthentication's effect included); cached per workload id. */
  forWorkload(id: string, workload: PolicyWorkload): L4Policy[] {
    const cached = this.#cache.get(id);
    if (cached && cached.workload === workload) return cached.policies;
    const keys = [
      ...(this.#byNamespace.get('*') ?? []),
      ...(this.#byNamespace.get(workload.namespace) ?? []),
    ];
    const policies = keys
      .map((k) => this.#policies.get(k) as L4Policy)
      .filter((p) => p.scope !== 'workload' || selects(p.selector ?? {}, workload.labels));
    const pa = peerAuthenticationPolicy(
      [...this.#peerAuth.values()],
      workload,
      this.#o.rootNamespace,
      this.#o.defaultMtls,
    );
    if (pa) policies.push(pa);
    this.#cache.set(id, { workload, policies });
    return policies;
  }

  #upsertAuthorizationPolicy(object: unknown): void {
    const compiled = compileAuthorizationPolicy(object, this.#o.rootNamespace);
    const key =
      compiled.kind === 'policy' ? policyKey(compiled.policy) : `${compiled.namespace}/${compiled.name}`;
    this.#drop(key);
    if (compiled.kind === 'ignored') {
      this.#o.logger.info('AuthorizationPolicy not enforced at L4', { policy: key, reason: compiled.reason });
      return;
    }
    if (compiled.kind === 'invalid') {
      this.#o.logger.warn('AuthorizationPolicy cannot be read; enforced fail-closed', {
        policy: key,
        problems: compiled.problems,
      });
      if (compiled.failClosed) this.#add(compiled.failClosed);
      return;
    }
    if (compiled.policy.warnings.length > 0)
      this.#o.logger.warn('AuthorizationPolicy enforced in part', {
        policy: key,
        warnings: compiled.policy.warnings,
      });
    this.#add(compiled.policy);
  }

  #upsertPeerAuthentication(object: unknown): void {
    const read = readPeerAuthentication(object);
    if ('problems' in read) {
      this.#o.logger.warn('PeerAuthentication cannot be read; ignored', { problems: read.problems });
      return;
    }
    this.#peerAuth.set(policyKey(read.pa), read.pa);
  }

  #add(p: L4Policy): void {
    const key = policyKey(p);
    this.#policies.set(key, p);
    // Root-namespace policies (selector or not) may apply in every namespace.
    const where = p.namespace === this.#o.rootNamespace ? '*' : p.namespace;
    const set = this.#byNamespace.get(where) ?? new Set<string>();
    this.#byNamespace.set(where, set.add(key));
  }

  #drop(key: string): void {
    const p = this.#policies.get(key);
    if (!p) return;
    this.#policies.delete(key);
    const where = p.namespace === this.#o.rootNamespace ? '*' : p.namespace;
    this.#byNamespace.get(where)?.delete(key);
  }
}
