import { formatTarget, hasErrorCode, type RedirectionDriver, SwitchyardError } from '@switchyard/core';
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
import type { CaptureReport, CaptureUnit } from './capture-unit.js';
import { EarlyWorkloads } from './early-workloads.js';
import { KeyedQueue } from './keyed-queue.js';
import { RulesKeeper } from './rules-keeper.js';
import { sameNetwork } from './same-network.js';
import { UnitServing } from './unit-serving.js';
import type { Phase, WorkloadRecord, WorkloadReport } from './workload-record.js';

/** What the reconciler needs to plan the source's workloads. */
export interface WorkloadPlanning {
  config: AgentConfig;
  resolver: NetworkResolver;
  identities: IdentityProvider;
}

/** What the reconciler drives. */
export interface ReconcilerInputs {
  /** The backoff of a failed capture, the drain of a removed one, how long an announcement holds. */
  settings: Pick<AgentConfig, 'retry' | 'drainSeconds' | 'announceGraceSeconds'>;
  driver: RedirectionDriver;
  plane: DataPlane;
  journal: AppliedJournal;
  logger: Logger;
  metrics: AgentMetrics;
  /**
   * How the source's workloads are planned. Without it the reconciler keeps capture units alone
   * (metadata proxying without an agent) and refuses workloads.
   */
  workloads?: WorkloadPlanning;
}

/**
 * ztunnel's add / delete / snapshot model: desired state from the source, actual state from the
 * driver's `list` and the running data plane. Each workload is reconciled on its own (a failure is
 * reported and retried with backoff while the others go on); every step is idempotent, so a
 * restart after `kill -9` keeps what is right, removes what is gone and adds what is missing.
 * Capture units (metadata clients, {@link captures}) are kept the same way, beside the workloads.
 */
export class Reconciler {
  readonly #in: ReconcilerInputs;
  readonly #desired = new Map<string, Workload>();
  readonly #units = new Map<string, CaptureUnit>();
  /** The unit groups (policy ids) whose journal entries were checked. */
  readonly #groups = new Set<string>();
  readonly #records = new Map<string, WorkloadRecord>();
  readonly #queue = new KeyedQueue((id) => this.#reconcile(id));
  readonly #early: EarlyWorkloads;
  readonly #rules: RulesKeeper;
  readonly #serving: UnitServing;
  #journalLoaded: Promise<void> | undefined;
  #stopped = false;

  constructor(inputs: ReconcilerInputs) {
    this.#in = inputs;
    this.#early = new EarlyWorkloads(
      inputs.settings.announceGraceSeconds * 1000,
      (id) => void this.#queue.schedule(id),
    );
    this.#rules = new RulesKeeper(inputs.driver, inputs.journal, inputs.metrics, inputs.logger);
    this.#serving = new UnitServing(inputs.plane);
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
    if (!this.#in.workloads && workloads.length > 0)
      throw new WorkloadFailedError('this reconciler keeps capture units only');
    const next = new Map(workloads.map((w) => [w.id, w]));
    if (first) await this.#loadJournal();
    // Only workloads' entries: units' captures are their group's (its first `captures`).
    const ours = this.#in.journal.entries().filter(([id]) => !this.#unitEntry(id));
    const touched = new Set<string>(first ? ours.map(([id]) => id) : []);
    for (const [id, w] of next)
      if (first || JSON.stringify(this.#desired.get(id)) !== JSON.stringify(w)) touched.add(id);
    for (const id of this.#desired.keys()) if (!next.has(id)) touched.add(id);
    this.#desired.clear();
    for (const [id, w] of next) this.#desired.set(id, w);
    await Promise.all([...touched].map((id) => this.#queue.schedule(id)));
  }

  /**
   * Takes the complete set of one group's capture units (every unit's `policy.id` is `group`) and
   * reconciles each that is new, changed or gone; the first time, also every capture the journal
   * holds for the group, so one a restart no longer wants is removed. Resolves once each was
   * reconciled.
   */
  async captures(group: string, units: readonly CaptureUnit[]): Promise<void> {
    await this.#loadJournal();
    const touched = new Set<string>();
    if (!this.#groups.has(group)) {
      this.#groups.add(group);
      for (const [id, e] of this.#in.journal.entries()) if (e.policyId === group) touched.add(id);
    }
    const next = new Map(units.map((u) => [u.id, u]));
    for (const [id, u] of this.#units)
      if (u.policy.id === group && !next.has(id)) {
        this.#units.delete(id);
        touched.add(id);
      }
    for (const [id, u] of next) {
      const before = this.#units.get(id);
      if (before && sameUnit(before, u)) continue;
      this.#units.set(id, u);
      touched.add(id);
    }
    // What an earlier call is still reconciling (unchanged units, removals) is waited for too.
    const recorded = this.#in.journal.entries().filter(([, e]) => e.policyId === group);
    const pending = [...next.keys(), ...recorded.map(([id]) => id)]
      .filter((id) => !touched.has(id))
      .map((id) => this.#queue.settled(id));
    await Promise.all([...[...touched].map((id) => this.#queue.schedule(id)), ...pending]);
  }

  /** Where one capture unit stands; undefined when it is not kept (never wanted, or removed). */
  capture(id: string): CaptureReport | undefined {
    const r = this.#records.get(id);
    if (!r?.unit) return undefined;
    return {
      phase: r.phase,
      ...(r.unitTarget ? { target: r.unitTarget } : {}),
      ...(r.servedKey ? { served: r.unit.serve.id } : {}),
      ...(r.error ? { error: r.error.message } : {}),
      attempts: r.attempts,
    };
  }

  /** Checks every desired workload and unit against the node again (rules flushed, a namespace gone). */
  resync(): Promise<void> {
    const ids = [...this.#desired.keys(), ...this.#units.keys()];
    return Promise.all(ids.map((id) => this.#queue.schedule(id))).then(() => undefined);
  }

  /** Whether a record is a capture unit's: wanted as one, or journaled as one. */
  #isUnit(r: Pick<WorkloadRecord, 'id' | 'unit'>): boolean {
    return r.unit !== undefined || this.#unitEntry(r.id);
  }

  /** Whether the journal records `id` as a unit's capture (a policy id other than the workloads'). */
  #unitEntry(id: string): boolean {
    const policyId = this.#in.journal.get(id)?.policyId;
    return policyId !== undefined && policyId !== AGENT_DEFAULTS.policyId;
  }

  /** The journal, read once (a unit group may ask before the first snapshot). */
  #loadJournal(): Promise<void> {
    this.#journalLoaded ??= this.#in.journal.load();
    return this.#journalLoaded;
  }

  /** The plans of every workload planned so far (their addresses and identities). */
  *plans(): Iterable<{ id: string; addresses: string[]; spiffeId: string }> {
    for (const r of this.#records.values())
      if (r.plan) yield { id: r.plan.id, addresses: r.plan.addresses, spiffeId: r.plan.identity.spiffeId };
  }

  /** Every workload's state, for `status` and `/status`. */
  report(): WorkloadReport[] {
    return [...this.#records.values()]
      .filter((r) => !this.#isUnit(r))
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
    const unit = this.#units.get(id);
    const isUnit = unit !== undefined || this.#isUnit(this.#records.get(id) ?? { id });
    const workload = isUnit ? undefined : await this.#wanted(id);
    const record = this.#record(id, unit);
    clearTimeout(record.retryTimer);
    record.retryTimer = undefined;
    record.retryAt = undefined;
    try {
      if (isUnit) return await this.#reconcileUnit(record, unit);
      if (!workload || !this.#in.workloads) return await this.#remove(record);
      const { resolver, config } = this.#in.workloads;
      const network = await resolver.resolve(workload);
      let planned = plan(workload, network, config);
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
      await this.#rules.ensure(record.id, planned.target, planned.policy);
      await this.#ensureServed(record, planned);
      this.#captured(record);
    } catch (error) {
      await this.#failed(record, error);
    }
  }

  #captured(record: WorkloadRecord): void {
    record.attempts = 0;
    record.error = undefined;
    this.#phase(record, 'captured');
  }

  /** A capture unit: its rules on its target (found again), then its data plane workload. */
  async #reconcileUnit(record: WorkloadRecord, unit: CaptureUnit | undefined): Promise<void> {
    if (!unit) return this.#removeUnit(record);
    if (record.unit && record.unit !== unit && record.unit.serve.id !== unit.serve.id)
      await this.#serving.unserve(record.id, record.unit.serve);
    record.unit = unit;
    const target = await unit.target();
    record.unitTarget = target;
    await this.#rules.ensure(record.id, target, unit.policy);
    const key = UnitServing.key(unit.serve, target);
    if (record.servedKey !== key || !this.#in.plane.workload(unit.serve.id)) {
      record.servedKey = undefined;
      await this.#serving.serve(record.id, unit.serve, target);
      record.servedKey = key;
    }
    this.#captured(record);
  }

  async #removeUnit(record: WorkloadRecord): Promise<void> {
    if (record.unit) await this.#serving.unserve(record.id, record.unit.serve);
    const entry = this.#in.journal.get(record.id);
    if (entry) await this.#rules.remove(entry.target, entry.policyId);
    await this.#in.journal.drop(record.id);
    this.#records.delete(record.id);
    if (entry)
      this.#in.logger.info('capture removed', { workload: record.id, target: formatTarget(entry.target) });
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
    const resolve = (w: Workload) => (this.#in.workloads as WorkloadPlanning).resolver.resolve(w);
    const both = await Promise.all([resolve(listed), resolve(announced)]).catch(() => undefined);
    return both ? sameNetwork(both[0].target, both[1].target) : false;
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
    record.store = await (this.#in.workloads as WorkloadPlanning).identities.open(p);
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
    const { journal } = this.#in;
    // Listeners close at once; connections drain in the background, so a successor under the
    // same id (a restarted container) is never held up by its predecessor's connections.
    void this.#drain(record.id, record.store);
    record.store = undefined;
    const entry = journal.get(record.id);
    if (entry) await this.#rules.remove(entry.target);
    await journal.drop(record.id);
    await this.#in.workloads?.identities.forget(record.id);
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
      await this.#in.plane.removeWorkload(id, this.#in.settings.drainSeconds * 1000);
    } catch (error) {
      this.#in.logger.warn('drain failed', { workload: id, reason: (error as Error).message });
    } finally {
      store?.close();
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
    if (!this.#isUnit(record)) this.#in.metrics.failures.inc({ workload: record.id, code: String(code) });
    const { initialMs, maxMs } = this.#in.settings.retry;
    const delay = backoffDelay(record.attempts, initialMs, maxMs);
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

  #record(id: string, unit?: CaptureUnit): WorkloadRecord {
    let r = this.#records.get(id);
    if (!r) {
      r = { id, phase: 'pending', attempts: 0, since: new Date().toISOString(), ...(unit ? { unit } : {}) };
      this.#records.set(id, r);
      this.#count();
    }
    return r;
  }

  #phase(record: WorkloadRecord, phase: Phase): void {
    if (record.phase !== phase) record.since = new Date().toISOString();
    record.phase = phase;
    if (this.#isUnit(record)) return; // units are counted by their owner (metadata proxying's series)
    this.#in.metrics.captured.set({ workload: record.id }, phase === 'captured' ? 1 : 0);
    this.#count();
  }

  #count(): void {
    for (const phase of ['pending', 'captured', 'failed'] as const)
      this.#in.metrics.workloads.set(
        { phase },
        [...this.#records.values()].filter((r) => !this.#isUnit(r) && r.phase === phase).length,
      );
  }
}

/** Whether two units of one id want the same: network, rules and serving. */
function sameUnit(a: CaptureUnit, b: CaptureUnit): boolean {
  const key = (u: CaptureUnit) =>
    JSON.stringify([u.network, u.policy, u.serve.id, u.serve.policy, u.serve.shared === true]);
  return key(a) === key(b);
}
