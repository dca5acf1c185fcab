import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@switchyard/dataplane';
import { afterAll, describe, expect, it } from 'vitest';
import { startRuntimeSocket } from './runtime-socket.js';

const dir = mkdtempSync(join(tmpdir(), 'swy-runtime-'));

function post(socketPath: string, path: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'POST' }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the runtime socket', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces a stale socket file, is 0600, routes JSON to its handler, and is gone once closed', async () => {
    const path = join(dir, 'state', 'agent.sock');
    const seen: unknown[] = [];
    const first = await startRuntimeSocket(path, {}, silentLogger);
    await first.close();
    writeFileSync(path, 'left by a killed agent');
    const socket = await startRuntimeSocket(
      path,
      {
        '/v1/echo': async (body) => {
          seen.push(body);
          return { status: 200, body: JSON.stringify(body) };
        },
        '/v1/broken': async () => {
          throw new Error('the handler failed');
        },
      },
      silentLogger,
    );
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await post(path, '/v1/echo', '{"a":1}')).toEqual({ status: 200, body: '{"a":1}' });
    expect(seen).toEqual([{ a: 1 }]);
    expect(await post(path, '/v1/echo', 'not json')).toMatchObject({
      status: 400,
      body: expect.stringMatching(/not JSON/),
    });
    expect(await post(path, '/v1/other', '{}')).toMatchObject({ status: 404 });
    expect(await post(path, '/v1/broken', '{}')).toEqual({ status: 500, body: 'the handler failed\n' });
    await expect(post(path, '/v1/echo', 'x'.repeat(2 * 1024 * 1024))).rejects.toThrow();
    expect(seen).toHaveLength(1);
    await socket.close();
    expect(() => statSync(path)).toThrow();
  });
});
