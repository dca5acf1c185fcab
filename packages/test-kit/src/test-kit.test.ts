import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, repoRoot, sh, shWith } from './index.js';

describe('the test kit', () => {
  it('finds a port that can be listened on', async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    expect((server.address() as { port: number }).port).toBe(port);
    await new Promise((resolve) => server.close(resolve));
  });

  it('runs a program and returns what it printed; a failure says what the program said', () => {
    expect(sh('node', '-e', 'process.stdout.write("out")')).toBe('out');
    expect(shWith({ input: 'fed' }, 'node', '-e', 'process.stdin.pipe(process.stdout)')).toBe('fed');
    expect(shWith({ cwd: repoRoot }, 'node', '-e', 'process.stdout.write(process.cwd())')).toBe(repoRoot);
    expect(() => sh('node', '-e', 'console.error("what went wrong"); process.exit(3)')).toThrow(
      /what went wrong/,
    );
    // Callers read what the program printed and how it ended from the error, as from execFileSync's.
    expect(() => sh('node', '-e', 'console.error("on stderr"); process.exit(3)')).toThrow(
      expect.objectContaining({ stderr: 'on stderr\n', status: 3 }),
    );
  });

  it('knows the repository root', () => {
    expect(existsSync(join(repoRoot, 'pnpm-workspace.yaml'))).toBe(true);
  });
});
