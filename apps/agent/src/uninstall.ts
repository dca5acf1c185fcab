import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { formatTarget, hasErrorCode, type RedirectionDriver } from '@switchyard/core';
import { loadDriver } from './agent.js';
import type { AgentConfig } from './config/agent-config.js';
import { AGENT_DEFAULTS } from './config/defaults.js';
import { removeMetadataCaptures } from './metadata/remove-metadata-captures.js';
import { acquireLock } from './ops/instance-lock.js';
import { AppliedJournal } from './reconcile/applied-journal.js';

/** What {@link uninstall} removed. */
export interface UninstallResult {
  /** Targets whose capture rules were removed. */
  removed: string[];
  /** Targets that were already gone. */
  gone: string[];
}

/**
 * Removes everything the agent put on the node: the capture rules on every target it recorded,
 * the metadata captures of running client containers (with `metadataProxy`), the certificates it
 * issued, its journal. Refuses while an agent runs (it would put them back).
 */
export async function uninstall(config: AgentConfig, driver?: RedirectionDriver): Promise<UninstallResult> {
  const lock = await acquireLock(config.stateDir, { admin: 'uninstalling' });
  try {
    const journal = new AppliedJournal(config.stateDir);
    await journal.load();
    const result: UninstallResult = { removed: [], gone: [] };
    const entries = journal.entries();
    const use = entries.length > 0 ? (driver ?? (await loadDriver(config.driver))) : undefined;
    for (const [id, entry] of entries) {
      try {
        await use?.remove(entry.target, AGENT_DEFAULTS.policyId);
        result.removed.push(formatTarget(entry.target));
      } catch (error) {
        if (!hasErrorCode(error, 'SWY_ERR_TARGET_NOT_FOUND')) throw error;
        result.gone.push(formatTarget(entry.target));
      }
      await journal.drop(id);
    }
    if (config.metadataProxy)
      result.removed.push(
        ...(await removeMetadataCaptures(
          config.metadataProxy,
          use ?? driver ?? (await loadDriver(config.driver)),
        )),
      );
    await rm(join(config.stateDir, 'certs'), { recursive: true, force: true });
    await rm(journal.path, { force: true });
    return result;
  } finally {
    await lock.release();
  }
}
