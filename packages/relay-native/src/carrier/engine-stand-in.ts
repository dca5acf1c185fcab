import type { StandIn } from '@switchyard/dataplane/carrier';

/**
 * A connection the engine relays, as the data plane holds it: no descriptor and no Node socket,
 * a few fields (an idle connection's JavaScript is most of what the data plane adds to the
 * engine's memory). Resetting it resets the engine's connection.
 */
export class EngineStandIn implements StandIn {
  #destroyed = false;
  #onClose: (() => void)[] = [];
  readonly #reset: () => void;

  /** `reset` resets the engine's connection (RST to both ends). */
  constructor(reset: () => void) {
    this.#reset = reset;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  once(_event: 'close', listener: () => void): this {
    this.#onClose.push(listener);
    return this;
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const listener of this.#onClose.splice(0)) listener();
  }

  /** Resets the engine's connection; the stand-in goes when the engine reports the end. */
  reset(): void {
    if (!this.#destroyed) this.#reset();
  }

  resetAndDestroy(): void {
    this.reset();
    this.destroy();
  }
}
