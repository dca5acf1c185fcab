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
    if (fromSource >= this.#shareOf(fromSource)) return { refused: 'pending-per-source' };
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

  /**
   * What one source may hold now: the per-source cap, and once the gate is half full an equal
   * share of it among the sources holding handshakes and one more, so that a few sources that
   * abandon handshakes as fast as they open them cannot fill it and a newcomer still gets in.
   */
  #shareOf(fromSource: number): number {
    if (this.#pending * 2 < this.#max) return this.#maxPerSource;
    const holders = this.#bySource.size + (fromSource === 0 ? 1 : 0);
    return Math.min(this.#maxPerSource, Math.max(1, Math.floor(this.#max / (holders + 1))));
  }
}
