import { access, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { formatTarget, hasErrorCode, type RedirectionDriver } from '@switchyard/core';
import { loadDriver } from './agent.js';
import type { AgentConfig } from './config/agent-config.js';
import { AGENT_DEFAULTS } from './config/defaults.js';
import { acquireLock } from './ops/instance-lock.js';
import { AppliedJournal } from './reconcile/applied-journal.js';

/** What {@link uninstall} removed (or, with `dryRun`, would remove). */
export interface UninstallResult {
  /** Targets whose capture rules were (would be) removed. */
  removed: string[];
  /** Targets that were already gone. */
  gone: string[];
  /** Whether issued certificates were (would be) removed: false when there were none. */
  certificates: boolean;
  /** Whether the journal was (would be) removed: false when there was none. */
  journal: boolean;
  /** Nothing was changed: this is what a real run would do. */
  dryRun: boolean;
}

/** Options of {@link uninstall}. */
export interface UninstallOptions {
  /** Say what would be removed and change nothing (no lock taken, nothing created). */
  dryRun?: boolean;
}

/**
 * Removes everything the agent put on the node: the capture rules on every target its journal
 * recorded (workloads' and metadata clients'), the certificates it issued, its journal. Refuses
 * while an agent runs (it would put them back). Reports only what was there to remove.
 */
export async function uninstall(
  config: AgentConfig,
  driver?: RedirectionDriver,
  options: UninstallOptions = {},
): Promise<UninstallResult> {
  const dryRun = options.dryRun === true;
  const lock = dryRun ? undefined : await acquireLock(config.stateDir, { admin: 'uninstalling' });
  try {
    const journal = new AppliedJournal(config.stateDir);
    await journal.load();
    const certs = join(config.stateDir, 'certs');
    const result: UninstallResult = {
      removed: [],
      gone: [],
      certificates: await exists(certs),
      journal: await exists(journal.path),
      dryRun,
    };
    const entries = journal.entries();
    let loaded = driver;
    const use = async () => {
      loaded ??= await loadDriver(config.driver);
      return loaded;
    };
    for (const [id, entry] of entries) {
      const name = formatTarget(entry.target);
      const policyId = entry.policyId ?? AGENT_DEFAULTS.policyId;
      try {
        const held = dryRun
          ? (await (await use()).list(entry.target)).some((p) => p.id === policyId)
          : (await (await use()).remove(entry.target, policyId)) > 0;
        if (held) result.removed.push(name);
      } catch (error) {
        if (!hasErrorCode(error, 'SWY_ERR_TARGET_NOT_FOUND')) throw error;
        result.gone.push(name);
      }
      if (!dryRun) await journal.drop(id);
    }
    if (!dryRun) {
      await rm(certs, { recursive: true, force: true });
      await rm(journal.path, { force: true });
    }
    return result;
  } finally {
    await lock?.release();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
