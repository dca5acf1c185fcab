import type { Socket } from 'node:net';
import type { Direction } from './metrics.js';

/**
 * The sockets one workload holds, by direction: what the connection limit counts and what drain
 * waits for, then resets at the deadline so the app sees an incomplete transfer as an error.
 */
export class ConnectionSet {
  readonly #open = new Map<Socket, Direction | 'pending'>();
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
   * drain but not counted against the connection limit until {@link ConnectionSet.promote}.
   */
  add(socket: Socket, direction: Direction | 'pending'): void {
    if (this.#open.has(socket) || socket.destroyed) return;
    this.#open.set(socket, direction);
    this.#counted(direction, 1);
    socket.once('close', () => {
      this.#counted(this.#open.get(socket), -1);
      this.#open.delete(socket);
      if (this.#open.size === 0) this.#emptied?.();
    });
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

  #counted(direction: Direction | 'pending' | undefined, delta: 1 | -1): void {
    if (direction === undefined || direction === 'pending') return;
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

  /** Resets (TCP RST) every socket still open and returns how many there were. */
  resetAll(): number {
    const n = this.#open.size;
    for (const socket of [...this.#open.keys()]) reset(socket);
    return n;
  }
}

/** Ends a TCP connection with RST, so the far end knows it was cut, not finished. */
export function reset(socket: Socket): void {
  try {
    socket.resetAndDestroy();
  } catch {
    // Not a TCP handle (a TLS or HTTP/2 wrapper): destroying it is the closest we can do.
    socket.destroy();
  }
}
