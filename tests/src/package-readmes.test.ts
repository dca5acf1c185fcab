import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { initCa, issueWorkloadCertificate } from '@switchyard/mesh';
import { repoRoot as repo } from '@switchyard/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { readmeBlocks } from './testing/readme-blocks.js';
import { typecheckSnippets } from './testing/typecheck-snippets.js';

/** Every README of a package, an app or an example, by path in the repository. */
const READMES = ['packages', 'apps', 'examples'].flatMap((group) =>
  readdirSync(join(repo, group))
    .map((name) => `${group}/${name}/README.md`)
    .filter((path) => existsSync(join(repo, path))),
);

// Inside tests/, so the snippets resolve the packages as a project that installed them would:
// through their published exports and built types (no source condition here).
const dir = mkdtempSync(join(repo, 'tests/.package-snippets-'));
writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The one TypeScript snippet of a README, written into the scratch folder; its path. */
function snippet(readme: string, name: string): string {
  const blocks = readmeBlocks(readme).filter((b) => b.language === 'ts');
  expect(blocks, `${readme} has one TypeScript snippet`).toHaveLength(1);
  const path = join(dir, name);
  writeFileSync(path, (blocks[0] as { code: string }).code);
  return path;
}

describe('the package READMEs', () => {
  it('have TypeScript snippets that compile under strict, each as a module of its own', () => {
    const files: string[] = [];
    for (const readme of READMES)
      readmeBlocks(readme)
        .filter((b) => b.language === 'ts')
        .forEach((b, i) => {
          const path = join(dir, 'typecheck', readme.replaceAll('/', '_'), b.file ?? `snippet-${i}.ts`);
          mkdirSync(join(path, '..'), { recursive: true });
          writeFileSync(path, b.code);
          files.push(path);
        });
    expect(files.length).toBeGreaterThan(10);
    const output = typecheckSnippets(dir, 'typecheck/**/*.ts');
    expect(output, `package README snippets do not compile:\n${output}`).toBe('');
  });

  it("@switchyard/hbone's snippet runs as written: a tunnel on loopback carries the app's answer, and it exits", () => {
    const path = snippet('packages/hbone/README.md', 'hbone.ts');
    const out = execFileSync(process.execPath, ['--experimental-strip-types', '--no-warnings', path], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    expect(out).toBe('hello through HBONE\n');
  });
});

describePrivileged("@switchyard/mtls-proxy's embedding snippet in a namespace of its own", () => {
  const ns = `swy-readme-${process.pid}`;
  const work = mkdtempSync(join(tmpdir(), 'swy-readme-mtls-'));
  afterAll(() => {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
  });

  it('serves, answers /status on its admin port, and exits on one SIGTERM (its admin server closed too)', async () => {
    await initCa({ dir: join(work, 'ca'), trustDomain: 'cluster.local' });
    await issueWorkloadCertificate({
      caDir: join(work, 'ca'),
      namespace: 'web',
      serviceAccount: 'api',
      outDir: join(work, 'api'),
    });
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const path = snippet('packages/mtls-proxy/README.md', 'mtls-proxy.ts');
    // The one change: the certificate directory a pod would mount.
    const code = execFileSync('sed', ['-e', `s|/var/run/secrets/workload|${join(work, 'api')}|`, path], {
      encoding: 'utf8',
    });
    writeFileSync(path, code);
    const child = spawn(
      'ip',
      ['netns', 'exec', ns, process.execPath, '--experimental-strip-types', '--no-warnings', path],
      {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = once(child, 'exit');
    const status = () =>
      execFileSync(
        'ip',
        ['netns', 'exec', ns, 'curl', '-sS', '--max-time', '2', 'http://127.0.0.1:15020/status'],
        {
          encoding: 'utf8',
        },
      );
    await expect
      .poll(() => status().includes('"spiffeId":"spiffe://cluster.local/ns/web/sa/api"'))
      .toBe(true);
    child.kill('SIGTERM');
    const [code0] = await exited;
    expect(code0, output).toBe(0);
    expect(output).toMatch(/"msg":"workload stopped"/);
  }, 60_000);
});
