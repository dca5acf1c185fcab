/** How long a source that earned a GOAWAY is refused: doubling per strike, up to a cap. */
export interface PenaltyOptions {
  /** The first penalty, ms. */
  firstMs: number;
  /** The longest penalty, ms. */
  maxMs: number;
  /** Sources remembered at most (the oldest are forgotten first). */
  maxSources: number;
}

interface Strikes {
  /** Refused until this time (ms since the epoch). */
  until: number;
  /** The penalty last given, ms. */
  lastMs: number;
}

/**
 * Sources that abused a connection (a GOAWAY ENHANCE_YOUR_CALM: rapid reset, a control-frame
 * flood) are refused at accept for a while, before any TLS work: 1 s, then twice as long for each
 * further strike while the last penalty has not run out twice over, up to the cap. A source that
 * behaves for that long starts again from the first penalty. Bounded: at most `maxSources` are
 * remembered.
 */
export class SourcePenalty {
  readonly #o: PenaltyOptions;
  readonly #sources = new Map<string, Strikes>();

  constructor(options: PenaltyOptions) {
    this.#o = options;
  }

  /** Gives `source` a strike; returns the penalty it now serves, ms. */
  strike(source: string, now = Date.now()): number {
    const before = this.#sources.get(source);
    const repeat = before !== undefined && now < before.until + 2 * before.lastMs;
    const lastMs = repeat ? Math.min(before.lastMs * 2, this.#o.maxMs) : this.#o.firstMs;
    this.#sources.delete(source);
    this.#sources.set(source, { until: now + lastMs, lastMs });
    if (this.#sources.size > this.#o.maxSources) {
      const oldest = this.#sources.keys().next().value;
      if (oldest !== undefined) this.#sources.delete(oldest);
    }
    return lastMs;
  }

  /** Whether `source` is serving a penalty now. */
  refused(source: string, now = Date.now()): boolean {
    const strikes = this.#sources.get(source);
    return strikes !== undefined && now < strikes.until;
  }
}
