/**
 * Counts TLS handshakes in progress, apart from established connections, per workload and per
 * source address. A peer that opens connections and never finishes the handshake fills only
 * this gate, so established peers keep being served while pending handshakes are shed.
 */
export class HandshakeGate {
  readonly #max: number;
  readonly #maxPerSource: number;
  readonly #bySource = new Map<string, number>();
  #pending = 0;

  constructor(max: number, maxPerSource: number) {
    this.#max = max;
    this.#maxPerSource = maxPerSource;
  }

  /** Handshakes in progress now. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Admits one handshake from `source`, or says why not. The returned `release` must be called
   * once when the handshake ends, however it ends (calling it again does nothing).
   */
  admit(source: string): { release: () => void } | { refused: 'pending-limit' | 'pending-per-source' } {
    const fromSource = this.#bySource.get(source) ?? 0;
    if (this.#pending >= this.#max) return { refused: 'pending-limit' };
    if (fromSource >= this.#maxPerSource) return { refused: 'pending-per-source' };
    this.#pending += 1;
    this.#bySource.set(source, fromSource + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#pending -= 1;
        const left = (this.#bySource.get(source) ?? 1) - 1;
        if (left > 0) this.#bySource.set(source, left);
        else this.#bySource.delete(source);
      },
    };
  }
}
