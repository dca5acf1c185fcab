import type { Socket } from 'node:net';

/**
 * The first line `socket` reads (without its newline), or how it ended: `closed` when the peer
 * closed (or ended: dialled sockets are half-open capable, so a proxy's close shows as an end)
 * before a line, `timeout` after `timeoutMs`. The socket stays open.
 */
export function firstLine(socket: Socket, timeoutMs = 5000): Promise<string> {
  return new Promise<string>((resolve) => {
    let text = '';
    const done = (why: string) => {
      clearTimeout(timer);
      resolve(why);
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    socket.on('data', (d) => {
      text += d;
      if (text.includes('\n')) done(text.split('\n')[0] as string);
    });
    socket.once('end', () => done(text || 'closed'));
    socket.once('close', () => done(text || 'closed'));
  });
}
