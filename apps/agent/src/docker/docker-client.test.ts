import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectDocker } from './docker-client.js';

describe('connectDocker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy13-docker-client-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says which socket did not answer and what to do, when nothing listens there', async () => {
    const socket = join(dir, 'missing.sock');
    await expect(connectDocker(socket)).rejects.toMatchObject({
      code: 'SWY_ERR_RUNTIME_UNAVAILABLE',
      message: expect.stringMatching(
        new RegExp(
          `^no Docker daemon answers on ${socket} \\(.*ENOENT.*\\); start dockerd, or point the agent's docker socket setting at the right one$`,
        ),
      ),
    });
  });

  it('gives up on a socket whose server never answers, instead of waiting for ever', async () => {
    const socket = join(dir, 'not-docker.sock');
    const server = createServer((s) => s.on('data', () => {})); // accepts, reads, never answers
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      await expect(connectDocker(socket, 500)).rejects.toMatchObject({ code: 'SWY_ERR_RUNTIME_UNAVAILABLE' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
