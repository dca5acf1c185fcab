import type { Socket } from 'node:net';

/**
 * Resets an engine connection when one of the Node sockets standing for it closes first (a drain
 * deadline, a refusal): the engine's `signal`. A socket handed away can be let go, so closing it
 * then resets nothing.
 */
export class CloseGuard {
  readonly #controller = new AbortController();
  #watched: { socket: Socket; onClose: () => void } | undefined;

  /** What the engine listens to. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Resets the connection when `socket` closes (one socket per guard: the accepted one). */
  watch(socket: Socket): void {
    this.release();
    const onClose = () => this.#controller.abort();
    socket.once('close', onClose);
    this.#watched = { socket, onClose };
  }

  /** Stops watching the socket: it may close without resetting anything. */
  release(): void {
    if (!this.#watched) return;
    this.#watched.socket.off('close', this.#watched.onClose);
    this.#watched = undefined;
  }

  /** Resets the connection now. */
  abort(): void {
    this.#controller.abort();
  }
}
