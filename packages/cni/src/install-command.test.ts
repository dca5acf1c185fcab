import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasErrorCode } from '@switchyard/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type InstallCniFlags, installCniCommand, runInstallCni } from './install-command.js';

describe('installCniCommand', () => {
  it.each<[InstallCniFlags, object]>([
    [{ binary: '/b' }, { mode: 'install', uninstallOnStop: true, options: { binary: '/b' } }],
    [{ uninstall: true }, { mode: 'uninstall', options: { binary: '' } }],
    [
      {
        watch: true,
        keepOnStop: true,
        binary: '/b',
        cniBinDir: '/host/bin',
        cniConfDir: '/host/net.d',
        agentSocket: '/run/a.sock',
        excludeNamespaces: ' kube-system, ops ,',
        agentTimeoutSeconds: '2.5',
      },
      {
        mode: 'watch',
        uninstallOnStop: false,
        options: {
          binary: '/b',
          binDir: '/host/bin',
          confDir: '/host/net.d',
          agentSocket: '/run/a.sock',
          excludeNamespaces: ['kube-system', 'ops'],
          agentTimeoutSeconds: 2.5,
        },
      },
    ],
    [{ binary: '/b', excludeNamespaces: '' }, { options: { binary: '/b', excludeNamespaces: [] } }],
  ])('reads %j', async (flags, expected) => {
    expect(await installCniCommand(flags)).toMatchObject(expected);
  });

  it.each<[InstallCniFlags, string]>([
    [{}, '--binary <path> is needed'],
    [{ watch: true, uninstall: true }, 'exclude each other'],
    [{ binary: '/b', keepOnStop: true }, '--keep-on-stop goes with --watch'],
    [{ binary: '/b', cniConfDir: 'net.d' }, '--cni-conf-dir must be an absolute path'],
    [{ binary: '/b', agentSocket: 'agent.sock' }, '--agent-socket must be an absolute path'],
    [{ binary: '/b', agentTimeoutSeconds: 'soon' }, '--agent-timeout-seconds must be a number'],
    [{ binary: '/b', agentTimeoutSeconds: '0' }, '--agent-timeout-seconds must be a number'],
  ])('refuses %j, naming the flag', async (flags, message) => {
    const error = await installCniCommand(flags).catch((e: unknown) => e);
    expect(hasErrorCode(error, 'SWY_ERR_INPUT_INVALID')).toBe(true);
    expect((error as Error).message).toContain(message);
  });
});

describe('runInstallCni', () => {
  let root: string;
  let flags: InstallCniFlags;
  const conflist = () => JSON.parse(readFileSync(join(root, 'net.d', '10-pods.conflist'), 'utf8'));
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'swy-cni-command-'));
    mkdirSync(join(root, 'net.d'));
    mkdirSync(join(root, 'bin'));
    writeFileSync(join(root, 'plugin'), 'bytes');
    writeFileSync(
      join(root, 'net.d', '10-pods.conflist'),
      JSON.stringify({ cniVersion: '1.0.0', name: 'pods', plugins: [{ type: 'bridge' }] }),
    );
    flags = { binary: join(root, 'plugin'), cniBinDir: join(root, 'bin'), cniConfDir: join(root, 'net.d') };
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('installs, then uninstalls, one line each', async () => {
    const lines: string[] = [];
    const io = { signal: new AbortController().signal, log: (l: string) => lines.push(l) };
    await runInstallCni(flags, io);
    expect(conflist().plugins.map((p: { type: string }) => p.type)).toEqual(['bridge', 'switchyard-cni']);
    await runInstallCni({ ...flags, uninstall: true }, io);
    expect(conflist().plugins.map((p: { type: string }) => p.type)).toEqual(['bridge']);
    expect(readdirSync(join(root, 'bin'))).toEqual([]);
    expect(lines).toEqual([
      `switchyard-cni: chained into ${join(root, 'net.d', '10-pods.conflist')}, binary copied`,
      `switchyard-cni: removed from ${join(root, 'net.d', '10-pods.conflist')}`,
    ]);
  });

  it('watches until the signal, then removes the plugin', async () => {
    const stop = new AbortController();
    const lines: string[] = [];
    const running = runInstallCni(
      { ...flags, watch: true },
      { signal: stop.signal, log: (l) => lines.push(l) },
    );
    for (let i = 0; i < 100 && lines.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(conflist().plugins).toHaveLength(2);
    stop.abort();
    await running;
    expect(conflist().plugins).toHaveLength(1);
    expect(lines.at(-1)).toMatch(/^switchyard-cni: removed from /);
  });
});
