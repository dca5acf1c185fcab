import type { CompiledStreamCheck } from '@switchyard/dataplane/carrier';
import type { RelayEngine } from '../relay-engine.js';

/**
 * One HBONE server's slot in its engine's admission table: the data plane's stream decisions
 * (peer rules, the workload's addresses, the proxy's ports, where the app is dialled), replaced
 * whenever what they compile to changes. The engine decides a served connection's streams from
 * it; a check that cannot be compiled empties the slot, so those streams go to JavaScript.
 */
export class StreamSlot {
  readonly #engine: RelayEngine;
  readonly #slot: number;
  #key: string | undefined;
  #usable = false;

  constructor(engine: RelayEngine) {
    this.#engine = engine;
    this.#slot = engine.admission.allocate();
  }

  /** The slot deciding a new connection's streams under `check`, or undefined: JavaScript decides them. */
  hold(check: CompiledStreamCheck | undefined): number | undefined {
    if (!check) {
      this.release();
      return undefined;
    }
    const key = JSON.stringify(check);
    if (key !== this.#key) {
      this.#key = key;
      const { selfTrustDomain, rules, addresses, proxyPorts, dial, connectTimeoutMs } = check;
      this.#usable = this.#engine.admission.set(this.#slot, {
        selfTrustDomain,
        rules,
        streams: { addresses, proxyPorts, dial, connectTimeoutMs },
      });
    }
    return this.#usable ? this.#slot : undefined;
  }

  /** Empties the slot: the streams of connections it decided are asked of JavaScript from now on. */
  release(): void {
    this.#key = undefined;
    this.#usable = false;
    this.#engine.admission.release(this.#slot);
  }
}
