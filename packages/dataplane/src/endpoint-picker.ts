import { ENDPOINT_FAILURE_PENALTY_MS } from './defaults.js';
import type { ServiceEndpoint } from './destination-resolver.js';

type EndpointKey = Pick<ServiceEndpoint, 'address' | 'port'>;

/** The load a recently failed endpoint adds: more than any live endpoint carries. */
const FAILED_LOAD = 1_000_000;

/** Failures remembered before expired ones are swept. */
const SWEEP_AT = 1_024;

/** Options of {@link OpenConnections}. */
export interface OpenConnectionsOptions {
  /** How long a failed endpoint counts as loaded, ms. Default {@link ENDPOINT_FAILURE_PENALTY_MS}. */
  penaltyMs?: number;
  /** The clock, ms. Default `Date.now`. */
  now?: () => number;
}

/**
 * Open connections per endpoint (`address|port`), shared by every workload of a data plane, and
 * the endpoints that failed lately: what endpoint choice reads as each endpoint's load.
 */
export class OpenConnections {
  readonly #open = new Map<string, number>();
  /** When each endpoint last failed. */
  readonly #failed = new Map<string, number>();
  readonly #penaltyMs: number;
  readonly #now: () => number;

  constructor(options: OpenConnectionsOptions = {}) {
    this.#penaltyMs = options.penaltyMs ?? ENDPOINT_FAILURE_PENALTY_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Open connections to `e` now. */
  count(e: EndpointKey): number {
    return this.#open.get(keyOf(e)) ?? 0;
  }

  /** What endpoint choice compares: open connections, plus a penalty while a failure is recent. */
  load(e: EndpointKey): number {
    const at = this.#failed.get(keyOf(e));
    const penalized = at !== undefined && this.#now() - at < this.#penaltyMs;
    return this.count(e) + (penalized ? FAILED_LOAD : 0);
  }

  /** Records that a connection to `e` failed: it counts as loaded for the penalty's length. */
  failed(e: EndpointKey): void {
    const now = this.#now();
    if (this.#failed.size >= SWEEP_AT)
      for (const [key, at] of this.#failed) if (now - at >= this.#penaltyMs) this.#failed.delete(key);
    this.#failed.set(keyOf(e), now);
  }

  /** Counts one more connection to `e`; returns the function that counts it closed (once). */
  hold(e: EndpointKey): () => void {
    const key = keyOf(e);
    this.#open.set(key, (this.#open.get(key) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const left = (this.#open.get(key) ?? 1) - 1;
      if (left > 0) this.#open.set(key, left);
      else this.#open.delete(key);
    };
  }
}

const keyOf = (e: EndpointKey) => `${e.address}|${e.port}`;

/**
 * Power of two choices (Mitzenmacher): draw two distinct endpoints at random and take the one
 * with fewer open connections (the first drawn on a tie); the other is the fallback. Returns the
 * chosen endpoint and, when there is one, the fallback — at most two, never the same twice.
 */
export function pickEndpoints<T>(
  candidates: readonly T[],
  load: (candidate: T) => number,
  random: () => number = Math.random,
): T[] {
  if (candidates.length <= 1) return [...candidates];
  const i = Math.floor(random() * candidates.length) % candidates.length;
  // The second draw skips the first, so the two are always distinct.
  let j = Math.floor(random() * (candidates.length - 1)) % (candidates.length - 1);
  if (j >= i) j += 1;
  const a = candidates[i] as T;
  const b = candidates[j] as T;
  return load(b) < load(a) ? [b, a] : [a, b];
}
