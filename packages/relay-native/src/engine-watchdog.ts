/** A change in an engine thread's heartbeat, as {@link RelayEngine.onStall} reports it. */
export interface ThreadStall {
  /** The engine thread (its index; the thread is named `swy-engine-N`). */
  thread: number;
  /** True when the thread stopped turning, false when it turned again. */
  stalled: boolean;
  /** How long its loop had not turned when this was seen (ms). */
  sinceMs: number;
}

/** One thread's heartbeat, as the addon reads it. */
export interface Heartbeat {
  /** Loop turns so far. */
  turns: number;
  /** How long ago the last turn began (ms). */
  sinceMs: number;
}

/**
 * Reads the engine threads' heartbeats on a timer (a quarter of the threshold, at most once a
 * second) and reports each thread that stops turning for longer than the threshold, and again
 * when it turns. The timer never keeps the process alive.
 */
export class EngineWatchdog {
  readonly #read: () => Heartbeat[];
  readonly #thresholdMs: number;
  readonly #listeners = new Set<(change: ThreadStall) => void>();
  readonly #stalled = new Set<number>();
  readonly #timer: NodeJS.Timeout;

  constructor(read: () => Heartbeat[], thresholdMs: number) {
    this.#read = read;
    this.#thresholdMs = thresholdMs;
    this.#timer = setInterval(() => this.check(), Math.min(1_000, Math.max(50, thresholdMs / 4)));
    this.#timer.unref();
  }

  /** The threads stalled at the last check. */
  get stalled(): readonly number[] {
    return [...this.#stalled];
  }

  /** Calls `listener` on every change; returns what unsubscribes it. */
  subscribe(listener: (change: ThreadStall) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Reads the heartbeats now and reports what changed. */
  check(): void {
    this.#read().forEach(({ sinceMs }, thread) => {
      const stalled = sinceMs > this.#thresholdMs;
      if (stalled === this.#stalled.has(thread)) return;
      if (stalled) this.#stalled.add(thread);
      else this.#stalled.delete(thread);
      for (const listener of this.#listeners) listener({ thread, stalled, sinceMs });
    });
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#listeners.clear();
    this.#stalled.clear();
  }
}
