import {
  formatTarget,
  hasErrorCode,
  normalizePolicy,
  type RedirectionDriver,
  type RedirectionPolicy,
  type Target,
} from '@switchyard/core';
import type { Logger } from '@switchyard/dataplane';
import { AGENT_DEFAULTS } from '../config/defaults.js';
import type { AgentMetrics } from '../ops/agent-metrics.js';
import type { AppliedJournal } from './applied-journal.js';

/**
 * The capture rules of every capture the reconciler keeps: recorded in the journal before they
 * are applied, kept when the driver already holds them unchanged, removed by policy id.
 */
export class RulesKeeper {
  readonly #driver: RedirectionDriver;
  readonly #journal: AppliedJournal;
  readonly #metrics: AgentMetrics;
  readonly #logger: Logger;

  constructor(driver: RedirectionDriver, journal: AppliedJournal, metrics: AgentMetrics, logger: Logger) {
    this.#driver = driver;
    this.#journal = journal;
    this.#metrics = metrics;
    this.#logger = logger;
  }

  /** Puts `policy` on `target` for `id`, moving it off the target it was recorded on before. */
  async ensure(id: string, target: Target, policy: RedirectionPolicy): Promise<void> {
    const before = this.#journal.get(id);
    if (before && formatTarget(before.target) !== formatTarget(target))
      await this.remove(before.target, before.policyId);
    // Recorded before the rules exist: a crash between the two still leaves a trace to clean up.
    await this.#journal.record(id, {
      target,
      driver: this.#driver.name,
      ...(policy.id === undefined || policy.id === AGENT_DEFAULTS.policyId ? {} : { policyId: policy.id }),
    });
    const wanted = normalizePolicy(policy);
    const held = (await this.#driver.list(target)).find((a) => a.id === wanted.id);
    if (held && JSON.stringify(held.policy) === JSON.stringify(wanted)) {
      this.#metrics.actions.inc({ action: 'kept' });
      return;
    }
    await this.#driver.apply(target, policy);
    this.#metrics.actions.inc({ action: 'applied' });
    this.#logger.info('capture applied', { workload: id, target: formatTarget(target) });
  }

  /** Removes the rules of `policyId` (default the workloads') from `target`; a network that is gone took them along. */
  async remove(target: Target, policyId: string = AGENT_DEFAULTS.policyId): Promise<void> {
    try {
      await this.#driver.remove(target, policyId);
    } catch (error) {
      if (!hasErrorCode(error, 'SWY_ERR_TARGET_NOT_FOUND')) throw error;
    }
  }
}
