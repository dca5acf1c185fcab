import type { ServiceEndpoint } from './destination-resolver.js';

/** Open connections per endpoint (`address|port`), shared by every workload of a data plane. */
export class OpenConnections {
  readonly #open = new Map<string, number>();

  /** Open connections to `e` now. */
  count(e: Pick<ServiceEndpoint, 'address' | 'port'>): number {
    return this.#open.get(keyOf(e)) ?? 0;
  }

  /** Counts one more connection to `e`; returns the function that counts it closed (once). */
  hold(e: Pick<ServiceEndpoint, 'address' | 'port'>): () => void {
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

const keyOf = (e: Pick<ServiceEndpoint, 'address' | 'port'>) => `${e.address}|${e.port}`;

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
