import type { Socket } from 'node:net';

/**
 * Resets an engine connection when one of the Node sockets standing for it closes first (a drain
 * deadline, a refusal): the engine's `signal`. A socket handed away can be let go, so closing it
 * then resets nothing.
 */
export class CloseGuard {
  readonly #controller = new AbortController();
  readonly #watched = new Map<Socket, () => void>();

  /** What the engine listens to. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Resets the connection when `socket` closes. */
  watch(socket: Socket): void {
    const onClose = () => this.#controller.abort();
    socket.once('close', onClose);
    this.#watched.set(socket, onClose);
  }

  /** Stops watching `socket`: it may close without resetting anything. */
  release(socket: Socket): void {
    const onClose = this.#watched.get(socket);
    if (!onClose) return;
    socket.off('close', onClose);
    this.#watched.delete(socket);
  }

  /** Resets the connection now. */
  abort(): void {
    this.#controller.abort();
  }
}
