import { afterAll, describe, expect, it } from 'vitest';
import { createRelayEngine } from './relay-engine.js';
import { firstData, receiveAll, sendRandom, socketPair } from './test-support/loopback.js';

const MiB = 1 << 20;

/** client ⇄ [inside1 | engine | inside2] ⇄ server */
async function relayed(engine: ReturnType<typeof createRelayEngine>) {
  const left = await socketPair();
  const right = await socketPair();
  const result = engine.splice(left.inside, right.inside);
  return { client: left.outside, server: right.outside, result };
}

describe('splice relay', () => {
  const engine = createRelayEngine({ threads: 2 });
  afterAll(() => engine.close());

  it('moves 64 MiB each way intact, and reports the counts and an orderly end', async () => {
    const { client, server, result } = await relayed(engine);
    const [sentUp, sentDown, gotUp, gotDown] = await Promise.all([
      sendRandom(client, 64 * MiB),
      sendRandom(server, 64 * MiB),
      receiveAll(server),
      receiveAll(client),
    ]);
    expect(gotUp).toEqual({ bytes: 64 * MiB, sha256: sentUp });
    expect(gotDown).toEqual({ bytes: 64 * MiB, sha256: sentDown });
    expect(await result).toEqual({ up: 64 * MiB, down: 64 * MiB, reason: 'eof', detail: '' });
  });

  it('passes a half-close on in each direction while the other keeps flowing', async () => {
    for (const first of ['client', 'server'] as const) {
      const ends = await relayed(engine);
      const [closer, other] = first === 'client' ? [ends.client, ends.server] : [ends.server, ends.client];
      const ended = new Promise((resolve) => other.once('end', resolve));
      other.resume();
      closer.end();
      await ended;
      const reply = firstData(closer);
      other.write('still open');
      expect((await reply).toString()).toBe('still open');
      other.end();
      expect((await ends.result).reason).toBe('eof');
    }
  });

  it('stops reading when the reader stops: bytes in flight stay bounded', async () => {
    const { client, server, result } = await relayed(engine);
    server.pause();
    const chunk = Buffer.alloc(MiB);
    let accepted = 0;
    while (client.write(chunk) && accepted < 256 * MiB) accepted += chunk.length;
    await new Promise((r) => setTimeout(r, 300));
    while (client.write(chunk) && accepted < 256 * MiB) accepted += chunk.length;
    // socket buffers on both hops plus one pipe: far below what the writer offered
    expect(accepted).toBeLessThan(64 * MiB);
    client.end();
    const got = await receiveAll(server);
    expect(got.bytes).toBe(accepted + 2 * chunk.length);
    server.end();
    expect((await result).reason).toBe('eof');
  });

  it('resets the other side when a peer dies, and says so', async () => {
    const { client, server, result } = await relayed(engine);
    const clientClosed = new Promise((resolve) => client.once('close', resolve));
    client.on('error', () => undefined); // the reset is what this test expects
    server.resetAndDestroy();
    expect((await result).reason).toBe('reset');
    await clientClosed;
  });

  it('keeps Node sockets as stand-ins when asked, and resets both sides on abort', async () => {
    const left = await socketPair();
    const right = await socketPair();
    const abort = new AbortController();
    const result = engine.splice(left.inside, right.inside, { keepSocket: true, signal: abort.signal });
    expect(left.inside.destroyed).toBe(false);
    const echoed = firstData(right.outside);
    left.outside.write('through the engine, not Node');
    expect((await echoed).toString()).toBe('through the engine, not Node');
    expect(left.inside.readableLength).toBe(0);
    for (const s of [left.outside, right.outside]) s.on('error', () => undefined);
    const reset = new Promise((resolve) => left.outside.once('close', resolve));
    abort.abort();
    expect(await result).toMatchObject({ reason: 'reset', detail: 'aborted by JavaScript' });
    left.inside.resetAndDestroy(); // the stand-in's owner closes Node's copy after the end
    right.inside.resetAndDestroy();
    await reset;
  });

  it('closes a relay that stays idle past the timeout', async () => {
    const quick = createRelayEngine({ threads: 1, idleTimeoutMs: 300 });
    try {
      const { client, server, result } = await relayed(quick);
      client.resume();
      server.resume();
      expect((await result).reason).toBe('idle-timeout');
    } finally {
      quick.close();
    }
  });
});
