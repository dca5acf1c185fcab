import type { Target } from '@switchyard/core';
import type { DataPlane } from '@switchyard/dataplane';
import type { CaptureServe } from './capture-unit.js';

/**
 * The data plane workloads of capture units: one per unit inside its target, or one shared on
 * the host by every unit that names it (added once, removed with the last of them). Units are
 * reconciled concurrently, so a shared workload is added by one of them only.
 */
export class UnitServing {
  readonly #plane: DataPlane;
  /** Units serving through each shared workload. */
  readonly #users = new Map<string, Set<string>>();
  readonly #adding = new Map<string, Promise<void>>();

  constructor(plane: DataPlane) {
    this.#plane = plane;
  }

  /** The key of what serves a unit now: a change means serving it anew. */
  static key(serve: CaptureServe, target: Target): string {
    return JSON.stringify({ id: serve.id, policy: serve.policy, ...(serve.shared ? {} : { target }) });
  }

  /** Serves `unit` with `serve` in `target` (or on the host, shared); a previous own workload is reset. */
  async serve(unit: string, serve: CaptureServe, target: Target): Promise<void> {
    if (serve.shared) {
      this.#users.set(serve.id, (this.#users.get(serve.id) ?? new Set()).add(unit));
      if (this.#plane.workload(serve.id)) return;
      let adding = this.#adding.get(serve.id);
      if (!adding) {
        adding = this.#plane
          .addWorkload({ id: serve.id, carrier: serve.carrier, policy: serve.policy })
          .then(() => undefined)
          .finally(() => this.#adding.delete(serve.id));
        this.#adding.set(serve.id, adding);
      }
      return adding;
    }
    if (this.#plane.workload(serve.id)) await this.#plane.removeWorkload(serve.id, 0);
    await this.#plane.addWorkload({ id: serve.id, target, carrier: serve.carrier, policy: serve.policy });
  }

  /** Stops serving `unit`: its own workload is reset at once, a shared one with its last unit. */
  async unserve(unit: string, serve: CaptureServe): Promise<void> {
    if (serve.shared) {
      const users = this.#users.get(serve.id);
      users?.delete(unit);
      if (users && users.size > 0) return;
      this.#users.delete(serve.id);
    }
    if (this.#plane.workload(serve.id)) await this.#plane.removeWorkload(serve.id, 0);
  }
}
