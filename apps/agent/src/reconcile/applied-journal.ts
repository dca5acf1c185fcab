import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Target, writeJsonAtomic } from '@switchyard/core';

/** One capture the agent may have applied: a workload's, or a metadata client's. */
export interface JournalEntry {
  target: Target;
  driver: string;
  /**
   * The id of the capture policy on `target`; absent for a workload's (`AGENT_DEFAULTS.policyId`).
   * Metadata clients' captures carry `AGENT_DEFAULTS.metadataProxy.policyId`.
   */
  policyId?: string;
}

/**
 * The agent's record of every target it may have put rules on, written *before* it applies them,
 * so a restart after `kill -9` at any point finds (and removes) rules of workloads that are gone,
 * and `--uninstall` finds every capture (workloads' and metadata clients') in one place. The
 * rules themselves stay the truth: this only says where to look.
 */
export class AppliedJournal {
  readonly path: string;
  #entries: Record<string, JournalEntry> = {};
  #saving: Promise<void> = Promise.resolve();
  #memory = false;

  constructor(stateDir: string) {
    this.path = join(stateDir, 'applied.json');
  }

  /**
   * A journal kept in memory alone, never read or written (metadata proxying without an agent,
   * whose captures are no agent's to uninstall).
   */
  static inMemory(): AppliedJournal {
    const journal = new AppliedJournal('');
    journal.#memory = true;
    return journal;
  }

  /** Reads the journal (an unreadable one is treated as empty). */
  async load(): Promise<void> {
    if (this.#memory) return;
    try {
      this.#entries = JSON.parse(await readFile(this.path, 'utf8')) as Record<string, JournalEntry>;
    } catch {
      this.#entries = {};
    }
  }

  entries(): [string, JournalEntry][] {
    return Object.entries(this.#entries);
  }

  get(id: string): JournalEntry | undefined {
    return this.#entries[id];
  }

  async record(id: string, entry: JournalEntry): Promise<void> {
    if (JSON.stringify(this.#entries[id]) === JSON.stringify(entry)) return;
    this.#entries[id] = entry;
    await this.#save();
  }

  async drop(id: string): Promise<void> {
    if (!(id in this.#entries)) return;
    delete this.#entries[id];
    await this.#save();
  }

  // Write then rename: a crash leaves the old journal or the new one, never half of one. Saves
  // run one after another, each writing the entries as they are when it starts.
  #save(): Promise<void> {
    if (this.#memory) return Promise.resolve();
    const next = this.#saving.then(async () => {
      await mkdir(join(this.path, '..'), { recursive: true });
      await writeJsonAtomic(this.path, this.#entries);
    });
    this.#saving = next.catch(() => {});
    return next;
  }
}
