import { connect, createServer, type Socket } from 'node:net';

/**
 * Two connected TCP sockets on 127.0.0.1, made in this process (the engine takes both ends): a
 * listener on a free port accepts the one connection and closes.
 *
 * @throws Error when the loopback connection cannot be made (out of descriptors or ports).
 */
export async function loopbackPair(): Promise<[Socket, Socket]> {
  const server = createServer({ pauseOnConnect: true });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const { port } = server.address() as { port: number };
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const dialled = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      dialled.once('connect', resolve);
      dialled.once('error', reject);
    });
    dialled.pause();
    return [dialled, await accepted];
  } finally {
    server.close();
  }
}
