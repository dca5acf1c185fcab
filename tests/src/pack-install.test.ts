import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRequiring, repoRoot as repo, shWith } from '@switchyard/test-kit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readmeBlocks } from './testing/readme-blocks.js';

/** Every package a user installs, by directory. */
const PUBLISHED = [
  'packages/core',
  'packages/mesh',
  'packages/dataplane',
  'packages/mtls-proxy',
  'packages/hbone',
  'packages/cri',
  'packages/driver-tproxy',
  'packages/driver-hns',
  'packages/relay-native',
  'packages/cni',
  'apps/agent',
  'apps/cli',
];
/** Applications: they depend on core (not as a peer) and are not libraries. */
const APPS = new Set(['@switchyard/cli', '@switchyard/agent']);
/** Runs a command in `cwd`; a failure says what it printed. */
const sh = (cwd: string, file: string, ...args: string[]) =>
  shWith({ cwd, timeoutMs: 240_000 }, file, ...args);

/** Why packing cannot run here (it cross-compiles the addon for arm64), or undefined when it can. */
function packingUnavailable(): string | undefined {
  try {
    execFileSync('sh', ['-c', 'command -v aarch64-linux-gnu-gcc && command -v aarch64-linux-gnu-g++'], {
      stdio: 'ignore',
    });
    return undefined;
  } catch {
    return 'the arm64 cross-compiler is missing (apt-get install gcc-aarch64-linux-gnu g++-aarch64-linux-gnu; ./run test installs it as root)';
  }
}
const unavailable = packingUnavailable();

let work: string;
/** Package name → tarball path. */
const tarballs = new Map<string, string>();

beforeAll(() => {
  if (unavailable) return;
  work = mkdtempSync(join(tmpdir(), 'swy-pack-'));
  const out = join(work, 'tarballs');
  mkdirSync(out);
  for (const dir of PUBLISHED) {
    const name = (JSON.parse(readFileSync(join(repo, dir, 'package.json'), 'utf8')) as { name: string }).name;
    const before = new Set(readdirSync(out));
    sh(join(repo, dir), 'pnpm', 'pack', '--pack-destination', out);
    const file = readdirSync(out).find((f) => !before.has(f)) as string;
    tarballs.set(name, join(out, file));
  }
}, 240_000);
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A tarball's file list and its package.json. */
function contents(tarball: string): { files: string[]; manifest: Record<string, unknown> } {
  const files = sh(work, 'tar', 'tzf', tarball).trim().split('\n');
  const manifest = JSON.parse(sh(work, 'tar', 'xzf', tarball, '-O', 'package/package.json'));
  return { files, manifest };
}

/** Every path an `exports` map points at. */
function targets(exportsField: unknown): string[] {
  if (typeof exportsField === 'string') return [exportsField];
  if (typeof exportsField !== 'object' || exportsField === null) return [];
  return Object.values(exportsField).flatMap(targets);
}

describeRequiring(unavailable, 'the published tarballs', () => {
  it('carry the root LICENSE, point exports only at shipped files with a default condition, and share core as a peer', () => {
    const license = readFileSync(join(repo, 'LICENSE'), 'utf8');
    expect(license).toMatch(/Apache License\s+Version 2\.0/);
    for (const [name, tarball] of tarballs) {
      const { files, manifest } = contents(tarball);
      expect(manifest.license, name).toBe('Apache-2.0');
      expect(sh(work, 'tar', 'xzf', tarball, '-O', 'package/LICENSE'), `${name} ships the root LICENSE`).toBe(
        license,
      );
      expect(JSON.stringify(manifest.exports), name).not.toContain('@switchyard/source');
      for (const target of targets(manifest.exports))
        expect(files, `${name} exports ${target}, which it does not ship`).toContain(
          `package/${target.replace(/^\.\//, '')}`,
        );
      for (const [entry, conditions] of Object.entries(manifest.exports as Record<string, unknown>))
        if (typeof conditions === 'object')
          expect(conditions, `${name} "${entry}"`).toHaveProperty('default');
      const deps = { ...(manifest.dependencies as object), ...(manifest.peerDependencies as object) };
      expect(JSON.stringify(deps), name).not.toContain('workspace:');
      if (name !== '@switchyard/core' && !APPS.has(name))
        expect((manifest.peerDependencies as Record<string, string>)['@switchyard/core'], name).toMatch(
          /^\^\d/,
        );
    }
    const tproxy = contents(tarballs.get('@switchyard/driver-tproxy') as string).files;
    expect(tproxy).toEqual(
      expect.arrayContaining([
        'package/prebuilds/linux-x64/node.napi.glibc.node',
        'package/prebuilds/linux-arm64/node.napi.glibc.node',
        'package/native/transparent.c',
      ]),
    );
    const relay = contents(tarballs.get('@switchyard/relay-native') as string);
    expect(relay.files).toEqual(
      expect.arrayContaining(['package/prebuilds/linux-x64/node.napi.glibc.node', 'package/native/addon.c']),
    );
    // linux-x64 only: the engine links nghttp2 statically from this machine's Debian package,
    // which has no arm64 build here (arm64 compiles at install; docs/roadmap.md)
    expect(relay.files.filter((f) => f.includes('linux-arm64'))).toEqual([]);
    // The ASan build is for this repository's tests; it is never shipped.
    expect(relay.files.filter((f) => f.includes('asan') || f.startsWith('package/build/'))).toEqual([]);
  });

  /** A new project outside the repository that depends on every tarball, each pinned to its file. */
  function consumerProject(manager: 'npm' | 'pnpm'): string {
    const dir = join(work, `with-${manager}`);
    mkdirSync(dir);
    const files = Object.fromEntries([...tarballs].map(([name, file]) => [name, `file:${file}`]));
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: `consumer-${manager}`,
        private: true,
        type: 'module',
        dependencies: files,
        overrides: files,
        pnpm: { overrides: files },
      }),
    );
    copyFileSync(join(repo, 'tests/test-fixtures/consumer.mjs'), join(dir, 'consumer.mjs'));
    return dir;
  }

  it.each(['npm', 'pnpm'] as const)(
    'install into a new project with %s: it validates a policy, creates drivers through the registry, runs a sidecar on loopback, and the CLI reports every package',
    (manager) => {
      const dir = consumerProject(manager);
      if (manager === 'npm') sh(dir, 'npm', 'install', '--no-audit', '--no-fund', '--loglevel=error');
      else sh(dir, 'pnpm', 'install', '--config.node-linker=isolated');
      const out = JSON.parse(sh(dir, process.execPath, 'consumer.mjs'));
      expect(out).toMatchObject({
        refused: 'SWY_ERR_POLICY_INVALID',
        tproxyAddon: 'loaded',
        relayEngine: 'loaded',
        carriers: ['hbone', 'hbone-native', 'mtls', 'mtls-native'],
      });
      expect(out.listening.length).toBeGreaterThan(0);
      // No compiler ran: both addons came from the prebuilt binaries the tarballs ship.
      for (const pkg of ['driver-tproxy', 'relay-native'])
        expect(existsSync(join(dir, `node_modules/@switchyard/${pkg}/build`)), pkg).toBe(false);
      const agentBin = 'node_modules/@switchyard/agent/dist/bin.js';
      const agent = JSON.parse(sh(dir, process.execPath, agentBin, 'version', '--json'));
      expect(agent).toMatchObject({ agent: '0.1.0', running: null });
      expect(sh(dir, process.execPath, agentBin, '--help')).toMatch(/Usage: switchyard-agent/);
      const version = JSON.parse(
        sh(dir, process.execPath, 'node_modules/@switchyard/cli/dist/bin.js', 'version', '--json'),
      );
      // Every package this project installed is found (cni comes with the agent; the CLI does not report it).
      for (const name of tarballs.keys())
        if (name !== '@switchyard/cli' && name !== '@switchyard/cni')
          expect(version.packages[name], name).toMatch(/^\d+\.\d+\.\d+/);
    },
    300_000,
  );

  it('follows the README\'s "Write a driver" literally in a new directory: builds, passes the compliance suite, loads in the CLI', () => {
    const blocks = readmeBlocks().filter((b) => b.section === 'Write a driver');
    const setup = blocks.find((b) => b.language === 'sh')?.code ?? '';
    const project = join(work, 'switchyard-driver-acme');
    for (const line of setup.trim().split('\n')) {
      if (line.startsWith('mkdir ')) {
        mkdirSync(project);
        continue;
      }
      // Core is not on the registry yet: the README says to install the packed tarball instead.
      const command = line.replace('@switchyard/core@^0.1.0', tarballs.get('@switchyard/core') as string);
      sh(project, 'sh', '-c', command);
    }
    for (const block of blocks.filter((b) => b.file)) {
      mkdirSync(join(project, 'src'), { recursive: true });
      writeFileSync(join(project, block.file as string), block.code);
    }
    sh(project, 'npx', 'tsc');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: vitest colours its summary
    const tests = sh(project, 'npx', 'vitest', 'run').replace(/\x1b\[[0-9;]*m/g, '');
    expect(tests).toMatch(/Tests\s+\d+ passed/);
    // The CLI as the npm project above installed it (tests in a file run in order).
    const cli = join(work, 'with-npm/node_modules/@switchyard/cli/dist/bin.js');
    const drivers = JSON.parse(
      sh(project, process.execPath, cli, '--driver-module', '.', 'drivers', '--json'),
    );
    expect(drivers.drivers.find((d: { name: string }) => d.name === 'acme')).toMatchObject({
      usable: true,
      origin: 'module',
    });
  }, 300_000);
});
