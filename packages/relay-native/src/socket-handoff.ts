import type { Socket } from 'node:net';
import { RelayHandOffError } from './errors.js';
import type { RelayAddon } from './load-addon.js';

interface HandleWithFd {
  fd?: number;
  reading?: boolean;
  readStop?: () => number;
  readStart?: () => number;
}

/**
 * Gives a kept socket back to Node after the engine let go of it without reading (a sniffed
 * connection that is not TLS): Node reads it again from its first byte. The handle is started
 * here (the stream still counts the read {@link stopReading} cut short as in progress, so
 * `resume()` alone would never ask the handle again); the stream stays paused, so no byte is
 * emitted before whoever reads it (a pipe, a `data` listener) resumes it.
 */
export function resumeReading(socket: Socket): void {
  if (socket.destroyed) return;
  const handle = (socket as unknown as { _handle?: HandleWithFd })._handle;
  if (handle && !handle.reading && handle.readStart) {
    handle.reading = true;
    handle.readStart();
  }
}

/**
 * Stops Node reading a socket now. A socket accepted without `pauseOnConnect` starts reading on
 * the next turn of the event loop; called in the same turn, no byte has left the kernel yet.
 */
export function stopReading(socket: Socket): void {
  socket.pause();
  const handle = (socket as unknown as { _handle?: HandleWithFd })._handle;
  if (handle?.reading && handle.readStop) {
    handle.reading = false;
    handle.readStop();
  }
}

/**
 * Takes a connected socket away from Node: duplicates its descriptor for the engine. By default
 * Node's socket is then destroyed (closing Node's copy sends nothing to the peer; the duplicate
 * keeps the connection open). With `keep`, Node's socket stays open as a stand-in for whoever
 * tracks it (a data plane's connection set): Node stops reading it at once, and its owner
 * destroys it when the engine reports the end. Either way Node never reads the descriptor again.
 *
 * @throws RelayHandOffError when the socket has no descriptor or Node already holds unread bytes.
 */
export function takeSocket(addon: RelayAddon, socket: Socket, keep = false): number {
  const handle = (socket as unknown as { _handle?: HandleWithFd })._handle;
  const fd = handle?.fd;
  if (typeof fd !== 'number' || fd < 0 || socket.destroyed) {
    throw new RelayHandOffError(
      'the socket has no open descriptor to hand to the relay engine; pass a connected net.Socket (not a TLS socket)',
    );
  }
  stopReading(socket);
  if (socket.readableLength > 0) {
    throw new RelayHandOffError(
      `Node already read ${socket.readableLength} bytes from this socket; create the server with pauseOnConnect: true and hand sockets over before reading`,
    );
  }
  let owned: number;
  try {
    owned = addon.takeFd(fd);
  } catch (cause) {
    throw new RelayHandOffError(
      `the socket's descriptor could not be duplicated (${(cause as Error).message}); raise the open-file limit`,
      { cause },
    );
  }
  if (keep) socket.setTimeout(0);
  else socket.destroy();
  return owned;
}
