import {
  formatTarget,
  hasErrorCode,
  normalizePolicy,
  type RedirectionDriver,
  SwitchyardError,
  type Target,
} from '@switchyard/core';
import { type DataPlane, type Logger, WorkloadFailedError } from '@switchyard/dataplane';
import type { CertificateStore } from '@switchyard/mesh';
import { createCarrier } from '../carriers/carriers.js';
import type { AgentConfig } from '../config/agent-config.js';
import { AGENT_DEFAULTS } from '../config/defaults.js';
import type { IdentityProvider } from '../identity/identity-provider.js';
import type { AgentMetrics } from '../ops/agent-metrics.js';
import { plan, type WorkloadPlan } from '../plan/plan.js';
import type { NetworkResolver } from '../sources/resolve-network.js';
import type { Workload } from '../sources/workload.js';
import { backoffDelay } from '../util/backoff.js';
import type { AppliedJournal } from './applied-journal.js';
import { EarlyWorkloads } from './early-workloads.js';
import { KeyedQueue } from './keyed-queue.js';
import { sameNetwork } from './same-network.js';
import type { Phase, WorkloadRecord, WorkloadReport } from './workload-record.js';

/** What the reconciler drives. */
export interface ReconcilerInputs {
  config: AgentConfig;
  driver: RedirectionDriver;
  plane: DataPlane;
  resolver: NetworkResolver;
  identities: IdentityProvider;
  journal: AppliedJournal;
  logger: Logger;
  metrics: AgentMetrics;
}

/**
 * ztunnel's add / delete / snapshot model: desired state from the source, actual state from the
 * driver's `list` and the running data plane. Each workload is reconciled on its own (a failure is
 * reported and retried with backoff while the others go on); every step is idempotent, so a
 * restart after `kill -9` keeps what is right, removes what is gone and adds what is missing.
 */
export class Reconciler {
  readonly #in: ReconcilerInputs;
  readonly #desired = new Map<string, Workload>();
  readonly #records = new Map<string, WorkloadRecord>();
  readonly #queue = new KeyedQueue((id) => this.#reconcile(id));
  readonly #early: EarlyWorkloads;
  #stopped = false;

  constructor(inputs: ReconcilerInputs) {
    this.#in = inputs;
    this.#early = new EarlyWorkloads(
      inputs.config.announceGraceSeconds * 1000,
      (id) => void this.#queue.schedule(id),
    );
  }

  /**
   * A workload the container runtime is about to start (its network exists, its program has not
   * run): captured now, before its first packet, and held until the source lists it. Resolves
   * once it was reconciled, with its report (captured, or failed and why).
   *
   * @param instance What the runtime names this instance by (a sandbox or container id), so a
   *   late {@link withdraw} of an older instance leaves a newer one alone.
   */
  async admit(workload: Workload, instance: string): Promise<WorkloadReport> {
    if (this.#stopped) throw new WorkloadFailedError('the agent is stopping');
    this.#early.hold(workload, instance);
    await this.#queue.schedule(workload.id);
    return this.report().find((r) => r.id === workload.id) as WorkloadReport;
  }

  /** The workload wanted now for `id`: the instance the runtime announced, else the source's. */
  workload(id: string): Workload | undefined {
    return this.#early.get(id)?.workload ?? this.#desired.get(id);
  }

  /** The runtime took an announced instance back (CNI DEL): the source decides again. */
  async withdraw(id: string, instance: string): Promise<void> {
    if (this.#early.drop(id, instance)) await this.#queue.schedule(id);
  }

  /**
   * Takes a complete snapshot of the desired workloads and reconciles every one that is new,
   * changed or gone — and, the first time, every one the journal says may have rules. Resolves
   * once each was reconciled (captured or failed).
   */
  async snapshot(workloads: readonly Workload[], first = false): Promise<void> {
    const next = new Map(workloads.map((w) => [w.id, w]));
    if (first) await this.#in.journal.load();
    // Only workloads' entries: metadata clients' captures are metadata proxying's to keep.
    const ours = this.#in.journal
      .entries()
      .filter(([, e]) => (e.policyId ?? AGENT_DEFAULTS.policyId) === AGENT_DEFAULTS.policyId);
    const touched = new Set<string>(first ? ours.map(([id]) => id) : []);
    for (const [id, w] of next)
      if (first || JSON.stringify(this.#desired.get(id)) !== JSON.stringify(w)) touched.add(id);
    for (const id of this.#desired.keys()) if (!next.has(id)) touched.add(id);
    this.#desired.clear();
    for (const [id, w] of next) this.#desired.set(id, w);
    await Promise.all([...touched].map((id) => this.#queue.schedule(id)));
  }

  /** Checks every desired workload against the node again (rules flushed, a namespace gone). */
  resync(): Promise<void> {
    return Promise.all([...this.#desired.keys()].map((id) => this.#queue.schedule(id))).then(() => undefined);
  }

  /** The plans of every workload planned so far (their addresses and identities). */
  *plans(): Iterable<{ id: string; addresses: string[]; spiffeId: string }> {
    for (const r of this.#records.values())
      if (r.plan) yield { id: r.plan.id, addresses: r.plan.addresses, spiffeId: r.plan.identity.spiffeId };
  }

  /** Every workload's state, for `status` and `/status`. */
  report(): WorkloadReport[] {
    return [...this.#records.values()]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((r) => {
        const served = this.#in.plane.workload(r.id);
        return {
          id: r.id,
          phase: r.phase,
          ...(r.plan
            ? {
                target: formatTarget(r.plan.target),
                carrier: r.plan.carrier,
                spiffeId: r.plan.identity.spiffeId,
                addresses: r.plan.addresses,
                excludedPorts: r.plan.policy.inbound?.excludePorts as number[],
              }
            : {}),
          ...(served ? { listeners: served.listeners, active: { ...served.active } } : {}),
          ...(r.error ? { error: r.error } : {}),
          ...(r.phase === 'failed' && !served && this.#in.journal.get(r.id) ? { heldClosed: true } : {}),
          attempts: r.attempts,
          ...(r.retryAt ? { nextRetry: new Date(r.retryAt).toISOString() } : {}),
          since: r.since,
        };
      });
  }

  /** Stops retrying; waits for what runs. Rules and the data plane are left as they are. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#early.clear();
    for (const r of this.#records.values()) clearTimeout(r.retryTimer);
    await this.#queue.idle();
    for (const r of this.#records.values()) r.store?.close();
  }

  async #reconcile(id: string): Promise<void> {
    if (this.#stopped) return;
    const workload = await this.#wanted(id);
    const record = this.#record(id);
    clearTimeout(record.retryTimer);
    record.retryTimer = undefined;
    record.retryAt = undefined;
    try {
      if (!workload) return await this.#remove(record);
      const network = await this.#in.resolver.resolve(workload);
      let planned = plan(workload, network, this.#in.config);
      // One namespace keeps the target it was first captured under (no re-apply, no new listeners).
      const before = record.plan?.target;
      if (
        before &&
        formatTarget(before) !== formatTarget(planned.target) &&
        (await sameNetwork(before, planned.target))
      )
        planned = { ...planned, target: before };
      if (JSON.stringify(planned) !== JSON.stringify(record.plan)) this.#phase(record, 'pending');
      record.plan = planned;
      await this.#ensureRules(record, planned);
      await this.#ensureServed(record, planned);
      record.attempts = 0;
      record.error = undefined;
      this.#phase(record, 'captured');
    } catch (error) {
      await this.#failed(record, error);
    }
  }

  /** The source's workload, unless the runtime announced a newer instance the source has not caught up with. */
  async #wanted(id: string): Promise<Workload | undefined> {
    const listed = this.#desired.get(id);
    const early = this.#early.get(id);
    if (!early) return listed;
    if (listed && (await this.#caughtUp(listed, early.workload))) {
      this.#early.drop(id);
      return listed;
    }
    return early.workload;
  }

  /** Whether the source's workload lives in the network the runtime announced. */
  async #caughtUp(listed: Workload, announced: Workload): Promise<boolean> {
    if (JSON.stringify(listed.network) === JSON.stringify(announced.network)) return true;
    const resolve = (w: Workload) => this.#in.resolver.resolve(w);
    const both = await Promise.all([resolve(listed), resolve(announced)]).catch(() => undefined);
    return both ? sameNetwork(both[0].target, both[1].target) : false;
  }

  async #ensureRules(record: WorkloadRecord, p: WorkloadPlan): Promise<void> {
    const { driver, journal } = this.#in;
    const before = journal.get(record.id);
    if (before && formatTarget(before.target) !== formatTarget(p.target))
      await this.#removeRules(before.target);
    // Recorded before the rules exist: a crash between the two still leaves a trace to clean up.
    await journal.record(record.id, { target: p.target, driver: driver.name });
    const wanted = normalizePolicy(p.policy);
    const held = (await driver.list(p.target)).find((a) => a.id === wanted.id);
    if (held && JSON.stringify(held.policy) === JSON.stringify(wanted)) {
      this.#in.metrics.actions.inc({ action: 'kept' });
      return;
    }
    await driver.apply(p.target, p.policy);
    this.#in.metrics.actions.inc({ action: 'applied' });
    this.#in.logger.info('capture applied', { workload: record.id, target: formatTarget(p.target) });
  }

  async #ensureServed(record: WorkloadRecord, p: WorkloadPlan): Promise<void> {
    const { plane } = this.#in;
    const key = JSON.stringify(p);
    const served = plane.workload(record.id);
    if (served?.state === 'serving' && record.servedKey === key) return;
    const previous = record.store;
    record.store = undefined;
    // The old instance drains on its own (its listeners close at once); the new one serves now.
    if (served) void this.#drain(record.id, previous);
    else previous?.close();
    record.store = await this.#in.identities.open(p);
    record.servedKey = undefined;
    await plane.addWorkload({
      id: record.id,
      target: p.target,
      identity: record.store,
      carrier: await createCarrier(p.carrier),
      policy: p.serve,
      addresses: p.addresses,
    });
    record.servedKey = key;
    this.#in.metrics.actions.inc({ action: 'served' });
  }

  async #remove(record: WorkloadRecord): Promise<void> {
    const { journal, identities } = this.#in;
    // Listeners close at once; connections drain in the background, so a successor under the
    // same id (a restarted container) is never held up by its predecessor's connections.
    void this.#drain(record.id, record.store);
    record.store = undefined;
    const entry = journal.get(record.id);
    if (entry) await this.#removeRules(entry.target);
    await journal.drop(record.id);
    await identities.forget(record.id);
    clearTimeout(record.retryTimer);
    this.#records.delete(record.id);
    this.#in.metrics.captured.remove({ workload: record.id });
    this.#in.metrics.actions.inc({ action: 'removed' });
    this.#count();
    this.#in.logger.info('workload removed', {
      workload: record.id,
      ...(entry ? { target: formatTarget(entry.target) } : {}),
    });
  }

  /** Stops serving an instance: its connections get `drainSeconds`, then its certificate store closes. */
  async #drain(id: string, store: CertificateStore | undefined): Promise<void> {
    try {
      await this.#in.plane.removeWorkload(id, this.#in.config.drainSeconds * 1000);
    } catch (error) {
      this.#in.logger.warn('drain failed', { workload: id, reason: (error as Error).message });
    } finally {
      store?.close();
    }
  }

  async #removeRules(target: Target): Promise<void> {
    try {
      await this.#in.driver.remove(target, AGENT_DEFAULTS.policyId);
    } catch (error) {
      // A namespace that is gone took its rules with it.
      if (!hasErrorCode(error, 'SWY_ERR_TARGET_NOT_FOUND')) throw error;
    }
  }

  async #failed(record: WorkloadRecord, error: unknown): Promise<void> {
    const code =
      error instanceof SwitchyardError ? error.code : ((error as { code?: string }).code ?? 'ERROR');
    const message = (error as Error).message ?? String(error);
    if (hasErrorCode(error, 'SWY_ERR_TARGET_NOT_FOUND') && this.#in.plane.workload(record.id)) {
      // Its network is gone: listeners there serve nobody.
      await this.#in.plane.removeWorkload(record.id, 0);
      record.servedKey = undefined;
    }
    record.attempts += 1;
    record.error = { code: String(code), message };
    this.#phase(record, 'failed');
    this.#in.metrics.failures.inc({ workload: record.id, code: String(code) });
    const delay = backoffDelay(record.attempts, this.#in.config.retry.initialMs, this.#in.config.retry.maxMs);
    this.#in.logger.warn('workload not captured', {
      workload: record.id,
      code,
      reason: message,
      retryInMs: delay,
    });
    if (this.#stopped) return;
    record.retryAt = Date.now() + delay;
    record.retryTimer = setTimeout(() => void this.#queue.schedule(record.id), delay);
    record.retryTimer.unref();
  }

  #record(id: string): WorkloadRecord {
    let r = this.#records.get(id);
    if (!r) {
      r = { id, phase: 'pending', attempts: 0, since: new Date().toISOString() };
      this.#records.set(id, r);
      this.#count();
    }
    return r;
  }

  #phase(record: WorkloadRecord, phase: Phase): void {
    if (record.phase !== phase) record.since = new Date().toISOString();
    record.phase = phase;
    this.#in.metrics.captured.set({ workload: record.id }, phase === 'captured' ? 1 : 0);
    this.#count();
  }

  #count(): void {
    for (const phase of ['pending', 'captured', 'failed'] as const)
      this.#in.metrics.workloads.set(
        { phase },
        [...this.#records.values()].filter((r) => r.phase === phase).length,
      );
  }
}
