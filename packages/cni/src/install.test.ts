import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasErrorCode } from '@switchyard/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installCni, uninstallCni } from './install.js';
import { type CniWatchEvent, watchCniInstall } from './install-watch.js';

const BRIDGE = { type: 'bridge', bridge: 'cni0', ipam: { type: 'host-local', subnet: '10.22.0.0/16' } };
const PORTMAP = { type: 'portmap', capabilities: { portMappings: true } };
const ENTRY = {
  type: 'switchyard-cni',
  agentSocket: '/run/sy/agent.sock',
  excludeNamespaces: ['kube-system'],
};

let root: string;
let confDir: string;
let binDir: string;
let binary: string;

const options = () => ({
  binary,
  binDir,
  confDir,
  agentSocket: ENTRY.agentSocket,
  excludeNamespaces: ENTRY.excludeNamespaces,
});
const read = (name: string) => JSON.parse(readFileSync(join(confDir, name), 'utf8'));
const write = (name: string, doc: unknown) => writeFileSync(join(confDir, name), JSON.stringify(doc));
const list = (plugins: unknown[], cniVersion = '1.0.0') => ({ cniVersion, name: 'pods', plugins });
const tempFiles = () => [...readdirSync(confDir), ...readdirSync(binDir)].filter((f) => f.endsWith('.tmp'));

async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`not within 5 s: ${what}`);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'swy-cni-install-'));
  confDir = join(root, 'net.d');
  binDir = join(root, 'bin');
  mkdirSync(confDir);
  mkdirSync(binDir);
  binary = join(root, 'switchyard-cni.built');
  writeFileSync(binary, 'plugin bytes v1');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('installCni', () => {
  it.each([
    ['a conflist', '10-pods.conflist', list([BRIDGE, PORTMAP]), list([BRIDGE, PORTMAP, ENTRY])],
    ['a conflist of 0.3.1', '10-pods.conflist', list([BRIDGE], '0.3.1'), list([BRIDGE, ENTRY], '0.3.1')],
    [
      'a conflist holding a stale entry in the middle',
      '10-pods.conflist',
      list([BRIDGE, { ...ENTRY, agentSocket: '/old.sock' }, PORTMAP]),
      list([BRIDGE, PORTMAP, ENTRY]),
    ],
    [
      'a conflist holding two entries',
      '10-pods.conflist',
      list([BRIDGE, ENTRY, ENTRY]),
      list([BRIDGE, ENTRY]),
    ],
  ])('chains the entry at the end of %s', async (_what, name, before, after) => {
    write(name, before);
    const result = await installCni(options());
    expect(result).toEqual({ conflist: join(confDir, name), configChanged: true, binaryChanged: true });
    expect(read(name)).toEqual(after);
    const bytes = readFileSync(join(confDir, name));
    expect(await installCni(options())).toEqual({ ...result, configChanged: false, binaryChanged: false });
    expect(readFileSync(join(confDir, name)).equals(bytes)).toBe(true);
    expect(tempFiles()).toEqual([]);
  });

  it('turns a single-plugin .conf into a .conflist of the same name', async () => {
    write('10-bridge.conf', { cniVersion: '0.4.0', name: 'pods', ...BRIDGE });
    const result = await installCni(options());
    expect(result.conflist).toBe(join(confDir, '10-bridge.conflist'));
    expect(readdirSync(confDir)).toEqual(['10-bridge.conflist']);
    expect(read('10-bridge.conflist')).toEqual(list([BRIDGE, ENTRY], '0.4.0'));
  });

  it('edits only the primary (lexically first) configuration and keeps its mode', async () => {
    write('20-other.conflist', list([PORTMAP]));
    write('05-main.conflist', list([BRIDGE]));
    writeFileSync(join(confDir, '00-notes.txt'), 'not a CNI file');
    chmodSync(join(confDir, '05-main.conflist'), 0o600);
    await installCni(options());
    expect(read('05-main.conflist')).toEqual(list([BRIDGE, ENTRY]));
    expect(read('20-other.conflist')).toEqual(list([PORTMAP]));
    expect(statSync(join(confDir, '05-main.conflist')).mode & 0o777).toBe(0o600);
  });

  it('copies the binary with mode 0755 and again when the host copy differs', async () => {
    write('10-pods.conflist', list([BRIDGE]));
    await installCni(options());
    const target = join(binDir, 'switchyard-cni');
    expect(readFileSync(target, 'utf8')).toBe('plugin bytes v1');
    expect(statSync(target).mode & 0o777).toBe(0o755);
    writeFileSync(binary, 'plugin bytes v2');
    expect((await installCni(options())).binaryChanged).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('plugin bytes v2');
  });

  it.each([
    ['no configuration', {}, 'holds no CNI configuration yet'],
    ['a file that is not JSON', { '10-pods.conflist': '{"plugins": [' }, 'is not JSON'],
    [
      'a list of strings',
      { '10-pods.conflist': '{"cniVersion":"1.0.0","plugins":["bridge"]}' },
      'neither a CNI',
    ],
    [
      'cniVersion 0.2.0',
      { '10-pods.conf': JSON.stringify({ cniVersion: '0.2.0', ...BRIDGE }) },
      'cniVersion "0.2.0"',
    ],
    [
      'cniVersion 1.1.0',
      { '10-pods.conflist': JSON.stringify(list([BRIDGE], '1.1.0')) },
      'cniVersion "1.1.0"',
    ],
  ])(
    'refuses %s, saying what is wrong, and changes nothing',
    async (_what, files: Record<string, string>, message) => {
      for (const [name, text] of Object.entries(files)) writeFileSync(join(confDir, name), text);
      const error = await installCni(options()).catch((e: unknown) => e);
      expect(hasErrorCode(error, 'SWY_ERR_INPUT_INVALID')).toBe(true);
      expect((error as Error).message).toContain(message);
      for (const [name, text] of Object.entries(files))
        expect(readFileSync(join(confDir, name), 'utf8')).toBe(text);
      expect(readdirSync(binDir)).toEqual([]);
    },
  );
});

describe('uninstallCni', () => {
  it('removes the entry from every configuration file and the binary, and is idempotent', async () => {
    write('10-pods.conflist', list([BRIDGE, ENTRY]));
    write('20-old.conflist', list([ENTRY, PORTMAP]));
    write('30-plain.conflist', list([PORTMAP]));
    writeFileSync(join(confDir, '40-broken.conf'), '{');
    writeFileSync(join(binDir, 'switchyard-cni'), 'x');
    expect(await uninstallCni(options())).toEqual([
      join(confDir, '10-pods.conflist'),
      join(confDir, '20-old.conflist'),
    ]);
    expect([read('10-pods.conflist'), read('20-old.conflist')]).toEqual([list([BRIDGE]), list([PORTMAP])]);
    expect(readFileSync(join(confDir, '40-broken.conf'), 'utf8')).toBe('{');
    expect(readdirSync(binDir)).toEqual([]);
    expect(await uninstallCni(options())).toEqual([]);
  });
});

describe('watchCniInstall', () => {
  it('puts the entry back when the network plugin rewrites its configuration, and removes it when stopped', async () => {
    const stop = new AbortController();
    const events: CniWatchEvent[] = [];
    // No configuration yet: the watcher waits for the network plugin's (a file event, not the interval).
    const done = watchCniInstall({
      ...options(),
      signal: stop.signal,
      intervalMs: 60_000,
      onEvent: (e) => events.push(e),
    });
    await eventually(() => events.some((e) => e.kind === 'retry'), 'a retry while there is no configuration');
    write('10-pods.conflist', list([BRIDGE]));
    await eventually(() => read('10-pods.conflist').plugins.length === 2, 'the entry added');
    // Rewritten in place, then replaced by rename (as plugins write it): both times the entry returns.
    write('10-pods.conflist', list([BRIDGE, PORTMAP]));
    await eventually(
      () => read('10-pods.conflist').plugins.at(-1)?.type === 'switchyard-cni',
      'in-place rewrite',
    );
    writeFileSync(join(root, 'staged'), JSON.stringify(list([PORTMAP])));
    renameSync(join(root, 'staged'), join(confDir, '10-pods.conflist'));
    await eventually(
      () => JSON.stringify(read('10-pods.conflist')) === JSON.stringify(list([PORTMAP, ENTRY])),
      'rename rewrite',
    );
    stop.abort();
    await done;
    expect(read('10-pods.conflist')).toEqual(list([PORTMAP]));
    expect(readdirSync(binDir)).toEqual([]);
    expect(events.at(-1)).toEqual({ kind: 'uninstalled', files: [join(confDir, '10-pods.conflist')] });
    expect(tempFiles()).toEqual([]);
  });

  it('copies the binary again when it goes, at the latest on the periodic check; can leave all in place', async () => {
    write('10-pods.conflist', list([BRIDGE]));
    const stop = new AbortController();
    const done = watchCniInstall({
      ...options(),
      signal: stop.signal,
      intervalMs: 100,
      uninstallOnStop: false,
    });
    const target = join(binDir, 'switchyard-cni');
    await eventually(() => readdirSync(binDir).includes('switchyard-cni'), 'the binary copied');
    rmSync(target);
    await eventually(() => readdirSync(binDir).includes('switchyard-cni'), 'the binary copied again');
    stop.abort();
    await done;
    expect(read('10-pods.conflist')).toEqual(list([BRIDGE, ENTRY]));
    expect(readFileSync(target, 'utf8')).toBe('plugin bytes v1');
  });
});
