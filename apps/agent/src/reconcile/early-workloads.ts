import type { Workload } from '../sources/workload.js';

/** A workload the runtime announced before its source lists it. */
export interface EarlyWorkload {
  workload: Workload;
  /** What the runtime names this instance by (a pod sandbox id, a container id). */
  instance: string;
  /** When the announcement lapses if the source never lists the workload, ms since the epoch. */
  expires: number;
}

/**
 * Workloads the container runtime announced just before their first packet (a CNI ADD, a
 * container's start), held until the source lists them, the runtime withdraws them (CNI DEL), or
 * `graceMs` passes without the source ever listing them (a start that failed after the
 * announcement). Until then the announcement wins over what the source says of the same id: the
 * source lags behind a restart, never ahead of it.
 */
export class EarlyWorkloads {
  readonly #held = new Map<string, EarlyWorkload & { timer: NodeJS.Timeout }>();
  readonly #graceMs: number;
  readonly #lapsed: (id: string) => void;

  /** `lapsed` is called when an announcement expires, so the id is reconciled without it. */
  constructor(graceMs: number, lapsed: (id: string) => void) {
    this.#graceMs = graceMs;
    this.#lapsed = lapsed;
  }

  /** Holds `workload` (replacing an earlier announcement of the same id). */
  hold(workload: Workload, instance: string): void {
    this.drop(workload.id);
    const timer = setTimeout(() => {
      this.#held.delete(workload.id);
      this.#lapsed(workload.id);
    }, this.#graceMs);
    timer.unref();
    this.#held.set(workload.id, { workload, instance, expires: Date.now() + this.#graceMs, timer });
  }

  /** The announcement for `id`, if one is held. */
  get(id: string): EarlyWorkload | undefined {
    return this.#held.get(id);
  }

  /** Forgets the announcement of `id` (only if it is of `instance`, when given); true if one went. */
  drop(id: string, instance?: string): boolean {
    const held = this.#held.get(id);
    if (!held || (instance !== undefined && held.instance !== instance)) return false;
    clearTimeout(held.timer);
    return this.#held.delete(id);
  }

  /** The ids announced, for a snapshot to keep. */
  ids(): string[] {
    return [...this.#held.keys()];
  }

  /** Forgets everything (the agent stops). */
  clear(): void {
    for (const held of this.#held.values()) clearTimeout(held.timer);
    this.#held.clear();
  }
}
