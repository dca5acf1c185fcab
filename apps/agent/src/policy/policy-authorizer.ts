import type { InboundAuthorizer, InboundRequest, InboundVerdict } from '@switchyard/dataplane';
import { Counter, type Registry } from 'prom-client';
import { decide, type PolicyConnection, type PolicyVerdict } from './evaluate.js';
import type { PolicyWorkload } from './peer-authentication.js';
import type { L4Policy } from './policy-model.js';
import type { PolicyStore } from './policy-store.js';

/** A workload the agent serves, as policies select it. */
export interface AuthorizedWorkload {
  id: string;
  namespace: string;
  labels: Readonly<Record<string, string>>;
}

/** What the authorizer reads of a workload: its namespace and labels. */
export interface WorkloadFacts {
  namespace: string;
  labels?: Readonly<Record<string, string>>;
}

/** What `explain` shows: the verdict, and every policy that applies to the workload. */
export interface PolicyExplanation extends PolicyVerdict {
  workload: string;
  connection: PolicyConnection;
  policies: { policy: string; kind: string; action: string; dryRun: boolean; warnings: string[] }[];
}

/** The label a denial by no policy (no ALLOW matched) is counted under. */
export const NO_ALLOW_MATCHED = 'no-allow-matched';

/**
 * The data plane's {@link InboundAuthorizer} from the cluster's policies: per connection, the
 * policies that apply to the workload (cached by the store) decided as ztunnel decides them.
 * Denials are counted by policy, AUDIT matches by policy. Until the policies are listed once,
 * every connection is refused (fail closed).
 */
export class PolicyAuthorizer implements InboundAuthorizer {
  readonly #store: PolicyStore;
  readonly #denials: Counter<'workload' | 'policy'>;
  readonly #audits: Counter<'workload' | 'policy'>;
  #workloads = new Map<string, PolicyWorkload>();
  readonly #workloadOf: ((id: string) => WorkloadFacts | undefined) | undefined;
  /** One PolicyWorkload per workload object, so the store's per-workload cache holds. */
  readonly #seen = new WeakMap<WorkloadFacts, PolicyWorkload>();

  /**
   * `workloadOf`: the workload served under an id (the reconciler's, announced or listed); without
   * it, {@link setWorkloads} says which workloads there are.
   */
  constructor(
    store: PolicyStore,
    registry: Registry,
    workloadOf?: (id: string) => WorkloadFacts | undefined,
  ) {
    this.#store = store;
    this.#workloadOf = workloadOf;
    this.#denials = new Counter({
      name: 'switchyard_agent_policy_denials_total',
      help: 'Inbound connections denied, by workload and the policy that denied them',
      labelNames: ['workload', 'policy'],
      registers: [registry],
    });
    this.#audits = new Counter({
      name: 'switchyard_agent_policy_audits_total',
      help: 'Inbound connections an AUDIT policy matched, by workload and policy',
      labelNames: ['workload', 'policy'],
      registers: [registry],
    });
  }

  /** The workloads served now (their labels select policies); an unchanged one keeps its cache. */
  setWorkloads(workloads: Iterable<AuthorizedWorkload>): void {
    const next = new Map<string, PolicyWorkload>();
    for (const w of workloads) {
      const old = this.#workloads.get(w.id);
      const same = old && old.namespace === w.namespace && sameLabels(old.labels, w.labels);
      next.set(w.id, same ? old : { namespace: w.namespace, labels: { ...w.labels } });
    }
    this.#workloads = next;
  }

  authorize(request: InboundRequest): InboundVerdict {
    const verdict = this.#decide(request.workload, connectionOf(request));
    for (const policy of verdict.audited) this.#audits.inc({ workload: request.workload, policy });
    if (!verdict.allowed)
      this.#denials.inc({ workload: request.workload, policy: verdict.policy ?? NO_ALLOW_MATCHED });
    return {
      allowed: verdict.allowed,
      reason: verdict.reason,
      ...(verdict.policy ? { policy: verdict.policy } : {}),
    };
  }

  /**
   * Whether the workload's mTLS mode (its PeerAuthentications, or the default) accepts plain TCP
   * from this source on this port: PERMISSIVE. AuthorizationPolicies decide later, in
   * {@link authorize}; counts nothing. Not before the policies are listed once.
   */
  plainAccepted(request: Omit<InboundRequest, 'peer'>): boolean {
    const w = this.#store.synced ? this.#workload(request.workload) : undefined;
    if (!w) return false;
    const modes = this.#store.forWorkload(request.workload, w).filter((p) => p.kind === 'PeerAuthentication');
    return decide(modes, connectionOf(request)).allowed;
  }

  /** The same decision as {@link authorize}, with the policies that apply; counts nothing. */
  explain(workload: string, connection: PolicyConnection): PolicyExplanation {
    const w = this.#workload(workload);
    const policies: L4Policy[] = w && this.#store.synced ? this.#store.forWorkload(workload, w) : [];
    return {
      ...this.#decide(workload, connection),
      workload,
      connection,
      policies: policies.map((p) => ({
        policy: `${p.namespace}/${p.name}`,
        kind: p.kind,
        action: p.action,
        dryRun: p.dryRun,
        warnings: p.warnings,
      })),
    };
  }

  #workload(id: string): PolicyWorkload | undefined {
    if (!this.#workloadOf) return this.#workloads.get(id);
    const facts = this.#workloadOf(id);
    if (!facts) return undefined;
    const known = this.#seen.get(facts);
    if (known) return known;
    const w = { namespace: facts.namespace, labels: { ...(facts.labels ?? {}) } };
    this.#seen.set(facts, w);
    return w;
  }

  #decide(id: string, c: PolicyConnection): PolicyVerdict {
    const none = { audited: [], dryRun: [] };
    if (!this.#store.synced) return { ...none, allowed: false, reason: 'policies are not synced yet' };
    const w = this.#workload(id);
    if (!w) return { ...none, allowed: false, reason: `${id} is not a workload this agent serves` };
    return decide(this.#store.forWorkload(id, w), c);
  }
}

function connectionOf(r: InboundRequest): PolicyConnection {
  return { source: r.source, destination: r.destination ?? { address: '', port: 0 }, peer: r.peer };
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
