/**
 * Runs one task per key at a time, and at most one more after it: a key scheduled while its task
 * runs is run once again afterwards, however many times it was scheduled. Different keys run in
 * parallel, so a workload whose network is slow to find never holds up the others.
 */
export class KeyedQueue {
  readonly #running = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();
  readonly #task: (key: string) => Promise<void>;

  constructor(task: (key: string) => Promise<void>) {
    this.#task = task;
  }

  /** Schedules `key`; resolves when a run that started after this call has finished. */
  schedule(key: string): Promise<void> {
    const running = this.#running.get(key);
    if (running) {
      this.#again.add(key);
      return running;
    }
    const run = (async () => {
      do {
        this.#again.delete(key);
        await this.#task(key);
      } while (this.#again.has(key));
    })().finally(() => this.#running.delete(key));
    this.#running.set(key, run);
    return run;
  }

  /** Resolves when the run of `key` under way now (if any) has finished. */
  settled(key: string): Promise<void> {
    return this.#running.get(key) ?? Promise.resolve();
  }

  /** Resolves when nothing is running. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running.values());
  }
}
