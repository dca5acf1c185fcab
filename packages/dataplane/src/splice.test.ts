import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { splice } from './splice.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A connected pair of loopback sockets, both half-open capable. */
async function pair(): Promise<[Socket, Socket]> {
  const server = createServer({ allowHalfOpen: true });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const port = (server.address() as { port: number }).port;
  const client = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  return [client, await accepted];
}

const collect = (s: Socket) =>
  new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    s.on('data', (c) => chunks.push(c));
    s.once('end', () => resolve(Buffer.concat(chunks)));
  });

describe('splice', () => {
  it('moves bytes both ways, carries half-close across, and counts what it moved', async () => {
    const [client, proxyIn] = await pair();
    const [proxyOut, app] = await pair();
    const done = splice(proxyIn, proxyOut);
    const appGot = collect(app);
    client.end('request'); // half-close: the client is done sending but still reads
    expect((await appGot).toString()).toBe('request');
    const clientGot = collect(client);
    app.end('response after the client finished sending');
    expect((await clientGot).toString()).toBe('response after the client finished sending');
    const result = await done;
    expect(result).toEqual({ aToB: 7, bToA: 42, firstEnded: 'a' });
  });

  it('applies back-pressure: a reader that stops reading stops the other side from being read', async () => {
    const [client, proxyIn] = await pair();
    const [proxyOut, app] = await pair();
    void splice(proxyIn, proxyOut);
    app.pause();
    const chunk = Buffer.alloc(64 * 1024, 1);
    let written = 0;
    // Bounded: write until the client's own buffer refuses, at most 64 MiB.
    while (written < 64 * 1024 * 1024 && client.write(chunk)) written += chunk.length;
    await new Promise((r) => setTimeout(r, 200));
    // The proxy holds at most its sockets' buffers, not everything the client sent.
    expect(proxyIn.readableLength + proxyOut.writableLength).toBeLessThan(4 * 1024 * 1024);
    expect(written).toBeLessThan(64 * 1024 * 1024);
    client.destroy();
    app.destroy();
  });

  it('resets the other side when one fails, so a cut transfer never looks complete', async () => {
    const [client, proxyIn] = await pair();
    const [proxyOut, app] = await pair();
    const done = splice(proxyIn, proxyOut);
    const appReset = new Promise((r) => app.once('error', (e: NodeJS.ErrnoException) => r(e.code)));
    app.resume();
    client.resetAndDestroy();
    const result = await done;
    expect(await appReset).toBe('ECONNRESET');
    expect(result.error).toMatchObject({ code: 'ECONNRESET' });
    expect(proxyOut.destroyed).toBe(true);
    app.destroy();
  });
});
