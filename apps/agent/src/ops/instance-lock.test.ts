import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock } from './instance-lock.js';

const dir = mkdtempSync(join(tmpdir(), 'swy-lock-'));

describe('acquireLock', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a second holder, naming the first', async () => {
    // A live process whose command line says "agent", standing for a running agent.
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)', 'fake-agent'], {
      stdio: 'ignore',
    });
    try {
      writeFileSync(
        join(dir, 'agent.lock'),
        JSON.stringify({ pid: other.pid, startedAt: 'then', admin: '127.0.0.1:15020' }),
      );
      await expect(acquireLock(dir, { admin: 'x' })).rejects.toThrow(
        new RegExp(
          `another switchyard-agent is running on this node: pid ${other.pid}, started then, admin 127.0.0.1:15020`,
        ),
      );
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('takes over the lock of an agent that died, and releases it', async () => {
    writeFileSync(
      join(dir, 'agent.lock'),
      JSON.stringify({ pid: 2 ** 22 + 1, startedAt: 'then', admin: 'x' }),
    );
    const lock = await acquireLock(dir, { admin: 'me' });
    await expect(acquireLock(dir, { admin: 'again' })).resolves.toBeDefined();
    await lock.release();
  });
});
