/**
 * The key of a pooled HBONE connection: our identity, the peer, and the identities pinned for it
 * (a connection verified for one pod never carries another's). JSON tells "none pinned" (null)
 * from an empty list, which pins nothing and passes no one.
 */
export function poolKey(self: string, peer: string, identities?: readonly string[]): string {
  return `${self}|${peer}|${JSON.stringify(identities ?? null)}`;
}

/**
 * Pooled HBONE connections by {@link poolKey}, for the JavaScript client and the engine's pool:
 * a tunnel's slot is taken in the same synchronous step as the check, so tunnels opened together
 * never overfill a connection (the peer would queue or refuse the excess), and one connection is
 * opened at a time per key: the tunnels that ask meanwhile share it.
 */
export class TunnelPools<P> {
  readonly #pools = new Map<string, P[]>();
  readonly #opening = new Map<string, Promise<P>>();
  readonly #usable: (p: P) => boolean;
  readonly #take: (p: P) => void;

  /** `usable`: whether a connection has a free slot; `take`: counts one more tunnel on it. */
  constructor(usable: (p: P) => boolean, take: (p: P) => void) {
    this.#usable = usable;
    this.#take = take;
  }

  /** Pooled connections. */
  get count(): number {
    let n = 0;
    for (const list of this.#pools.values()) n += list.length;
    return n;
  }

  /**
   * A connection of `key` with a slot taken: a pooled one with room (unless `fresh`), else the one
   * being opened for the key, else one `open` makes (which {@link TunnelPools.add}s it).
   */
  async slot(key: string, open: () => Promise<P>, fresh = false): Promise<P> {
    for (;;) {
      const free = fresh ? undefined : (this.#pools.get(key) ?? []).find(this.#usable);
      if (free) {
        this.#take(free);
        return free;
      }
      let opening = this.#opening.get(key);
      if (!opening) {
        opening = open().finally(() => this.#opening.delete(key));
        this.#opening.set(key, opening);
      }
      const opened = await opening;
      if (this.#usable(opened)) {
        this.#take(opened);
        return opened;
      }
    }
  }

  /** Pools a connection that opened. */
  add(key: string, p: P): void {
    this.#pools.set(key, [...(this.#pools.get(key) ?? []), p]);
  }

  /** Takes a connection out of the pool (it closed, or the peer sent GOAWAY). */
  remove(key: string, p: P): void {
    const list = this.#pools.get(key)?.filter((q) => q !== p) ?? [];
    if (list.length > 0) this.#pools.set(key, list);
    else this.#pools.delete(key);
  }

  /** Empties the pool, handing each connection to `each` (to close it). */
  clear(each: (p: P) => void): void {
    for (const list of this.#pools.values()) for (const p of list) each(p);
    this.#pools.clear();
  }
}
