import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { repoRoot as repo } from '@switchyard/test-kit';
import { expect, it } from 'vitest';

describePrivileged('the README demo (scripts/demo.mjs)', () => {
  it.each([
    ['mTLS', [] as string[], 'mtls'],
    ['HBONE', ['--hbone'], 'hbone'],
    ['mTLS on the native relay engine', ['--native'], 'mtls-native'],
  ])(
    '%s: shows the response, the authorized identity, the real client address, and TLS-only bytes on the link — and cleans up',
    async (_mode, flags, carrier) => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['scripts/demo.mjs', '--json', ...flags],
        { cwd: repo, timeout: 90_000 },
      );
      const facts = JSON.parse(stdout.trim().split('\n').at(-1) as string);
      expect(facts.mode).toBe(carrier);
      expect(facts.response.marker).toMatch(/^PLAINTEXT-MARKER-/);
      expect(facts.authorizedIdentity).toBe('spiffe://cluster.local/ns/demo/sa/client');
      expect(facts.appSawSource).toBe(facts.a);
      expect(facts.carriedAs).toBe(carrier);
      expect(facts.wire.packets).toBeGreaterThan(4);
      expect(facts.wire.tlsRecordsSeen).toBe(true);
      expect(facts.wire.plaintextMarkerSeen).toBe(false);
      expect(facts.restart).toMatchObject({
        refusedWhileDown: true,
        nothingDuplicated: true,
        flowsAgain: true,
      });
      expect(facts.ok).toBe(true);
      // Its own namespaces are gone (others' runs may have theirs open at the same time).
      expect(readdirSync('/run/netns').filter((n) => facts.netns.includes(n))).toEqual([]);
    },
    120_000,
  );

  it('cut short by its reader (| head), it still removes its namespaces, processes and files', async () => {
    const prefix = `swy-cut${process.pid % 1000}-`;
    const scratch = mkdtempSync(join(tmpdir(), 'swy-demo-cut-'));
    try {
      const { stdout } = await promisify(execFile)('sh', ['-c', `node scripts/demo.mjs | head -3`], {
        cwd: repo,
        timeout: 90_000,
        env: {
          ...process.env,
          SWITCHYARD_DEMO_NETNS_PREFIX: prefix,
          TMPDIR: scratch,
          PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
        },
      });
      expect(stdout.split('\n').length).toBeLessThanOrEqual(4);
      expect(stdout).not.toContain('\u001b['); // no terminal escapes into a pipe
      expect(readdirSync('/run/netns').filter((n) => n.startsWith(prefix))).toEqual([]);
      expect(readdirSync(scratch)).toEqual([]); // its work folder, CA key included, is gone
      const left = spawnSync('pgrep', ['-f', prefix], { encoding: 'utf8' }).stdout.trim();
      expect(left).toBe('');
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('--help prints the usage and does nothing else; an unknown argument is refused', async () => {
    const help = await promisify(execFile)(process.execPath, ['scripts/demo.mjs', '--help'], {
      cwd: repo,
      timeout: 10_000,
    });
    expect(help.stdout).toMatch(/^Usage: node scripts\/demo\.mjs/);
    expect(help.stdout).toContain('SWITCHYARD_DEMO_NETNS_PREFIX');
    await expect(
      promisify(execFile)(process.execPath, ['scripts/demo.mjs', '--hbon'], { cwd: repo, timeout: 10_000 }),
    ).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown argument "--hbon"/) });
  });

  it('refuses --hbone with --native (one carrier per run)', async () => {
    const run = promisify(execFile)(process.execPath, ['scripts/demo.mjs', '--hbone', '--native'], {
      cwd: repo,
      timeout: 10_000,
    });
    await expect(run).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--hbone or --native/),
    });
  });
});
