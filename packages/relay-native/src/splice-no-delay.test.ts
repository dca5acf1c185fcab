import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createRelayEngine } from './relay-engine.js';
import { firstData, socketPair } from './test-support/loopback.js';

/**
 * TCP_NODELAY of each socket, read back with getsockopt by an independent process (python3) that
 * inherits the sockets' descriptors: the same sockets the engine holds duplicates of.
 */
async function noDelayOf(...sockets: Socket[]): Promise<number[]> {
  const fds = sockets.map((_, i) => 3 + i);
  const code = [
    'import socket',
    `for fd in ${JSON.stringify(fds)}:`,
    '    s = socket.socket(fileno=fd)',
    '    print(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))',
    '    s.detach()',
  ].join('\n');
  // the ASan run preloads libasan into this process: python3 gets an environment without it
  const { LD_PRELOAD: _, ...env } = process.env;
  const child = spawn('python3', ['-c', code], { env, stdio: ['ignore', 'pipe', 'inherit', ...sockets] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const status = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  expect(status).toBe(0);
  return out.trim().split('\n').map(Number);
}

describe('splice relay sockets', () => {
  const engine = createRelayEngine({ threads: 1 });
  afterAll(() => engine.close());

  it('turns Nagle off on both sockets it relays, whatever the caller set', async () => {
    const left = await socketPair();
    const right = await socketPair();
    // Node accepts with Nagle on unless asked: the engine gets them that way
    expect(await noDelayOf(left.inside, right.inside)).toEqual([0, 0]);
    const result = engine.splice(left.inside, right.inside, { keepSocket: true });
    expect(await noDelayOf(left.inside, right.inside)).toEqual([1, 1]);

    const reply = firstData(right.outside);
    left.outside.write('ping');
    expect((await reply).toString()).toBe('ping');
    left.outside.end();
    right.outside.end();
    expect((await result).reason).toBe('eof');
    left.inside.destroy();
    right.inside.destroy();
  });
});
