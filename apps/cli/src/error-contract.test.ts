import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, runBin } from './testing/run-bin.js';
import { cli, repo } from './testing/run-cli.js';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'swy-contract-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at .+\(.*:\d+:\d+\)$/m);

describe('--json failures are one object with code and message', () => {
  it('reports a usage mistake as SWY_ERR_INPUT_INVALID on stdout, nothing on stderr', async () => {
    const r = await cli('drivers', '--bogus', '--json');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: 'SWY_ERR_INPUT_INVALID',
      message: expect.stringMatching(/unknown option '--bogus'/),
    });
    const group = await cli('redirect', '--json');
    expect(group.code).toBe(2);
    expect(JSON.parse(group.stdout).error.message).toMatch(/say which command to run/);
    const text = await cli('drivers', '--bogus');
    expect(text.stderr).toMatch(/^switchyard: unknown option '--bogus'.*\[SWY_ERR_INPUT_INVALID\]\n$/);
  });

  it('reports an unexpected error as SWY_ERR_INTERNAL without a stack trace (exit 1)', async () => {
    const plugin = join(scratch, 'boom.mjs');
    await writeFile(
      plugin,
      `export default { name: 'boom', apiVersion: 1, description: 'throws', create() { null.x; } };`,
    );
    const args = [
      'redirect',
      'plan',
      '--driver',
      'boom',
      '--driver-module',
      plugin,
      '--netns',
      'x',
      '--inbound-port',
    ];
    const json = await runBin([...args, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).error).toMatchObject({
      code: 'SWY_ERR_INTERNAL',
      message: expect.any(String),
    });
    const text = await runBin(args);
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(/^switchyard: .*\[SWY_ERR_INTERNAL\]\n$/);
    noStack(text.stderr);
  });

  it('quotes garbage back at most ~80 characters', async () => {
    const garbage = 'x'.repeat(5000);
    const flag = await cli('redirect', 'plan', '--netns', 'x', '--inbound-port', garbage, '--json');
    expect(flag.code).toBe(2);
    const message: string = JSON.parse(flag.stdout).error.message;
    expect(message).toContain('…');
    expect(message.length).toBeLessThan(200);
    const file = join(scratch, 'garbage.json');
    await writeFile(
      file,
      JSON.stringify({ inbound: { port: garbage }, outbound: { excludeCidrs: [garbage] } }),
    );
    const policy = await cli('policy', 'validate', file, '--json');
    for (const issue of JSON.parse(policy.stdout).issues) expect(issue.message.length).toBeLessThan(200);
  });
});

describe('the switchyard process', () => {
  it('stops quietly when the reader closes the pipe (| head -2): no EPIPE stack trace', async () => {
    const big = join(scratch, 'big.json');
    const ports = Array.from({ length: 30_000 }, (_, i) => 2 * i + 2);
    await writeFile(big, JSON.stringify({ inbound: { excludePorts: ports } }));
    const child = spawn(process.execPath, [bin, 'policy', 'validate', big, '--json'], { cwd: repo });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('recognises errors of a driver that brings its own copy of @switchyard/core (exit 2 with the code)', async () => {
    const project = join(scratch, 'driver-project');
    const core = join(project, 'node_modules/@switchyard/core');
    await mkdir(join(project, 'node_modules'), { recursive: true });
    await cp(join(repo, 'packages/core/dist'), join(core, 'dist'), { recursive: true });
    await writeFile(
      join(core, 'package.json'),
      JSON.stringify({ name: '@switchyard/core', type: 'module', exports: { '.': './dist/index.js' } }),
    );
    await symlink(
      join(repo, 'packages/core/node_modules/ipaddr.js'),
      join(project, 'node_modules/ipaddr.js'),
    );
    await writeFile(
      join(project, 'acme.mjs'),
      `import { assertTargetKind, defineDriver, DRIVER_API_VERSION } from '@switchyard/core';
const driver = { name: 'acme', targetKinds: ['acme:vm'], capabilities: { multiplePolicies: false },
  async probe() { return { usable: true, problems: [], details: {} }; },
  async apply(target) { assertTargetKind(driver, target); },
  async list() { return []; }, async remove() { return 0; }, socketOps: {} };
export default defineDriver({ name: 'acme', apiVersion: DRIVER_API_VERSION, description: 'own core', create: () => driver });
`,
    );
    const r = await runBin(
      [
        'redirect',
        'plan',
        '--driver',
        'acme',
        '--driver-module',
        './acme.mjs',
        '--netns',
        'x',
        '--inbound-port',
        '--json',
      ],
      { cwd: project },
    );
    expect(JSON.parse(r.stdout).error).toMatchObject({
      name: 'TargetUnsupportedError',
      code: 'SWY_ERR_TARGET_UNSUPPORTED',
    });
    expect(r.code).toBe(2);
  });
});
