import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { type FirstByte, sniffFirstByte } from './sniff.js';

describe('sniffFirstByte: TLS or plain by the first byte, every byte left for the next reader', () => {
  const servers: Server[] = [];
  afterAll(() => {
    for (const s of servers) s.close();
  });

  /** A loopback connection: what `client` does, then the sniff on the accepted side and what it reads after. */
  async function sniff(client: (c: Socket) => void, timeoutMs = 2000) {
    const server = createServer();
    servers.push(server);
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const c = connect({ port: (server.address() as { port: number }).port, host: '127.0.0.1' });
    c.on('error', () => undefined);
    client(c);
    const socket = await accepted;
    const first: FirstByte = await sniffFirstByte(socket, timeoutMs);
    let rest = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      rest = Buffer.concat([rest, d]);
    });
    await new Promise((resolve) => socket.once('close', resolve));
    return { first, rest };
  }

  it('a TLS handshake record is tls, and its bytes are read again afterwards', async () => {
    const hello = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]);
    expect(await sniff((c) => c.end(hello))).toEqual({ first: 'tls', rest: hello });
  });

  it('anything else is plain, every byte kept', async () => {
    const { first, rest } = await sniff((c) => c.end('GET / HTTP/1.1\r\n\r\n'));
    expect(first).toBe('plain');
    expect(rest.toString()).toBe('GET / HTTP/1.1\r\n\r\n');
  });

  it('nothing sent: closed when the client ends, timeout when it waits', async () => {
    expect((await sniff((c) => c.end())).first).toBe('closed');
    let waiting: Socket | undefined;
    const server = sniff((c) => {
      waiting = c;
    }, 100);
    await new Promise((resolve) => setTimeout(resolve, 300));
    waiting?.end('late');
    expect(await server).toEqual({ first: 'timeout', rest: Buffer.from('late') });
  });
});
