import type { Socket } from 'node:net';

/** What {@link connectSocket} waits for. */
export interface ConnectSocketOptions {
  /** Give up after this many milliseconds (the socket is destroyed with `ETIMEDOUT`). */
  timeout: number;
  /** Abort the connect (the socket is destroyed with the signal's reason). */
  signal?: AbortSignal | undefined;
}

/**
 * Connects `socket` (a new one, or one adopted from a file descriptor that a driver created,
 * marked and bound) to `destination` in the event loop, and resolves once it is connected.
 * Rejects, with the socket destroyed, on error, timeout or abort. Every socket-ops dial goes
 * through here, so a connect never waits on a thread and never outlives its timeout.
 */
export function connectSocket(
  socket: Socket,
  destination: { address: string; port: number },
  options: ConnectSocketOptions,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const { signal } = options;
    const fail = (error: Error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(error);
    };
    const onAbort = () => fail(signal?.reason ?? new Error('dial aborted'));
    const timer = setTimeout(
      () =>
        fail(
          Object.assign(
            new Error(
              `connect to ${destination.address}:${destination.port} timed out after ${options.timeout} ms`,
            ),
            { code: 'ETIMEDOUT' },
          ),
        ),
      options.timeout,
    );
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', fail);
    socket.connect({ host: destination.address, port: destination.port }, () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}
