import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { StandIn } from './carrier.js';
import type { Direction } from './metrics.js';
import { abort } from './splice.js';

/**
 * The sockets one workload holds, by direction: what the connection limit counts and what drain
 * waits for, then resets at the deadline so the app sees an incomplete transfer as an error.
 */
export class ConnectionSet {
  readonly #open = new Map<Socket | StandIn, Direction | 'pending' | 'held'>();
  /** The stream layered on a socket (its TLS), which is what an abort must go through. */
  readonly #outer = new WeakMap<Socket, Duplex>();
  readonly #count: Record<Direction, number> = { inbound: 0, outbound: 0 };
  readonly #onChange: (direction: Direction, delta: 1 | -1) => void;
  #emptied: (() => void) | undefined;

  constructor(onChange: (direction: Direction, delta: 1 | -1) => void) {
    this.#onChange = onChange;
  }

  /** Open sockets per direction. */
  get counts(): Readonly<Record<Direction, number>> {
    return { ...this.#count };
  }

  /** All open sockets. */
  get size(): number {
    return this.#open.size;
  }

  /**
   * Holds `socket` until it closes. `pending` sockets (a TLS handshake not yet done) are held for
   * drain but not counted against the connection limit until {@link ConnectionSet.promote};
   * `held` ones (the upstream leg of a connection already counted) are never counted.
   */
  add(socket: Socket, direction: Direction | 'pending' | 'held'): void {
    if (this.#open.has(socket) || socket.destroyed) return;
    this.#open.set(socket, direction);
    this.#counted(direction, 1);
    this.#releaseOnClose(socket);
  }

  /**
   * Holds `standIn` in `socket`'s place, counted as `socket` was: for a carrier that took the
   * socket's descriptor away (a native engine) and closes Node's socket, so the connection is
   * still counted, drained and reset (through the stand-in) until the stand-in is destroyed.
   * Returns false when `socket` is not held (already closed): then nothing is held for it.
   */
  replace(socket: Socket, standIn: StandIn): boolean {
    const direction = this.#open.get(socket);
    if (direction === undefined || standIn.destroyed || this.#open.has(standIn)) return false;
    // Deleted first: the old socket's close then finds nothing to release.
    this.#open.delete(socket);
    this.#open.set(standIn, direction);
    this.#releaseOnClose(standIn);
    return true;
  }

  #releaseOnClose(socket: Socket | StandIn): void {
    socket.once('close', () => {
      if (!this.#open.has(socket)) return;
      this.#counted(this.#open.get(socket), -1);
      this.#open.delete(socket);
      if (this.#open.size === 0) this.#emptied?.();
    });
  }

  /** Records that `outer` (a TLS socket) runs over `socket`: aborts go through it. */
  layer(socket: Socket, outer: Duplex): void {
    this.#outer.set(socket, outer);
  }

  /** Counts a pending socket as established in `direction`. */
  promote(socket: Socket, direction: Direction): void {
    if (this.#open.get(socket) !== 'pending') {
      this.add(socket, direction);
      return;
    }
    this.#open.set(socket, direction);
    this.#counted(direction, 1);
  }

  #counted(direction: Direction | 'pending' | 'held' | undefined, delta: 1 | -1): void {
    if (direction === undefined || direction === 'pending' || direction === 'held') return;
    this.#count[direction] += delta;
    this.#onChange(direction, delta);
  }

  /** Resolves when every socket has closed, or after `ms`. Returns true when all closed in time. */
  async settle(ms: number): Promise<boolean> {
    if (this.#open.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const empty = new Promise<true>((resolve) => {
      this.#emptied = () => resolve(true);
    });
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const done = await Promise.race([empty, late]);
    clearTimeout(timer);
    this.#emptied = undefined;
    return done;
  }

  /** Aborts every connection still open (RST, or a TLS error) and returns how many there were. */
  resetAll(): number {
    const n = this.#open.size;
    for (const held of [...this.#open.keys()]) {
      if (held instanceof Duplex) abort(this.#outer.get(held as Socket) ?? held);
      else held.resetAndDestroy();
    }
    return n;
  }
}
