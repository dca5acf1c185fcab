import type { Socket } from 'node:net';

/** The TLS record type of a handshake (RFC 8446 §5.1): every ClientHello begins with it. */
export const TLS_HANDSHAKE_RECORD = 0x16;

/**
 * The `failure` of a handshake that found plain TCP instead of TLS: asked to look first
 * ({@link HandshakeOptions.plainAccepted}), the carrier saw a first byte that is not a TLS
 * handshake record and left the connection as it was, every byte still to be read.
 */
export const NOT_TLS = 'not-tls';

/** What a client sent first: a TLS handshake, something else, or nothing before it closed or the time ran out. */
export type FirstByte = 'tls' | 'plain' | 'closed' | 'timeout';

/**
 * Waits for the client's first bytes and tells TLS from plain by the first one, then puts them
 * back (`unshift`): whoever reads the socket next — a TLS server, a plain relay — reads them
 * first. For sockets Node reads; the native engine peeks at the descriptor itself.
 */
export function sniffFirstByte(socket: Socket, timeoutMs: number): Promise<FirstByte> {
  return new Promise((resolve) => {
    const done = (result: FirstByte) => {
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      resolve(result);
    };
    const onReadable = () => {
      const chunk = socket.read() as Buffer | null;
      if (chunk === null || chunk.length === 0) return;
      socket.unshift(chunk);
      done(chunk[0] === TLS_HANDSHAKE_RECORD ? 'tls' : 'plain');
    };
    const onEnd = () => done('closed');
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    if (socket.destroyed) return done('closed');
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
  });
}
