import type { Socket } from 'node:net';
import { RelayHandOffError } from './errors.js';
import type { RelayAddon } from './load-addon.js';

interface HandleWithFd {
  fd?: number;
}

/**
 * Takes a connected socket away from Node: duplicates its descriptor for the engine, then
 * destroys the Node socket (closing Node's copy sends nothing to the peer; the duplicate keeps
 * the connection open). Node never reads the descriptor again.
 *
 * @throws RelayHandOffError when the socket has no descriptor or Node already holds unread bytes.
 */
export function takeSocket(addon: RelayAddon, socket: Socket): number {
  const fd = (socket as unknown as { _handle?: HandleWithFd })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0 || socket.destroyed) {
    throw new RelayHandOffError(
      'the socket has no open descriptor to hand to the relay engine; pass a connected net.Socket (not a TLS socket)',
    );
  }
  socket.pause();
  if (socket.readableLength > 0) {
    throw new RelayHandOffError(
      `Node already read ${socket.readableLength} bytes from this socket; create the server with pauseOnConnect: true and hand sockets over before reading`,
    );
  }
  const owned = addon.takeFd(fd);
  socket.destroy();
  return owned;
}
