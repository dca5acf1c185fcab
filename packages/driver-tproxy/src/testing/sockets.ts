import type { Server, Socket } from 'node:net';

/** Resolves with the next connection a server accepts, or rejects after `ms`. */
export function nextConnection(server: Server, ms = 5000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connection within ${ms} ms`)), ms);
    server.once('connection', (socket: Socket) => {
      clearTimeout(timer);
      resolve(socket);
    });
  });
}

/** Writes `text` and resolves with the first `text.length` characters that come back. */
export function exchange(socket: Socket, text: string, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const timer = setTimeout(() => reject(new Error(`no reply within ${ms} ms (got "${got}")`)), ms);
    socket.on('data', (chunk) => {
      got += chunk.toString();
      if (got.length >= text.length) {
        clearTimeout(timer);
        resolve(got);
      }
    });
    socket.once('error', reject);
    socket.write(text);
  });
}

/** Echoes every byte back on each accepted connection. */
export function echo(server: Server): Server {
  return server.on('connection', (socket: Socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
}

/** Closes servers (the caller destroys the connections it holds). */
export async function closeAll(servers: Server[]): Promise<void> {
  await Promise.all(
    servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
        }),
    ),
  );
}
