import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startAgentProcess } from '../testing/agent-process.js';

const BRIDGE = {
  cniVersion: '1.0.0',
  name: 'k8s-pod-network',
  plugins: [{ type: 'bridge', bridge: 'cni0', ipam: { type: 'host-local', subnet: '10.244.0.0/24' } }],
};

describe('switchyard-agent install-cni', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-install-cni-'));
  const bin = join(dir, 'bin');
  const conf = join(dir, 'net.d');
  const binary = join(dir, 'switchyard-cni.built');
  mkdirSync(bin);
  mkdirSync(conf);
  writeFileSync(binary, '#!/bin/sh\n');
  const types = () =>
    (JSON.parse(readFileSync(join(conf, '10-bridge.conflist'), 'utf8')) as typeof BRIDGE).plugins.map(
      (p) => p.type,
    );
  const flags = [`--cni-bin-dir=${bin}`, `--cni-conf-dir=${conf}`];
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('chains the entry once; --uninstall takes it off; a bad timeout is refused, changing nothing', async () => {
    writeFileSync(join(conf, '10-bridge.conflist'), JSON.stringify(BRIDGE));
    const bad = startAgentProcess([
      'install-cni',
      `--binary=${binary}`,
      ...flags,
      '--agent-timeout-seconds=0',
    ]);
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/--agent-timeout-seconds must be a whole number from 1 to 300, not 0/);
    expect(types()).toEqual(['bridge']);
    for (const _ of [1, 2])
      expect(await startAgentProcess(['install-cni', `--binary=${binary}`, ...flags]).exited).toBe(0);
    expect(types()).toEqual(['bridge', 'switchyard-cni']);
    expect(await startAgentProcess(['install-cni', '--uninstall', ...flags]).exited).toBe(0);
    expect(types()).toEqual(['bridge']);
  });

  it('--watch --keep-on-stop leaves the entry in place on SIGTERM (an upgrade); --watch alone takes it off', async () => {
    for (const keep of [true, false]) {
      writeFileSync(join(conf, '10-bridge.conflist'), JSON.stringify(BRIDGE));
      const watcher = startAgentProcess([
        'install-cni',
        `--binary=${binary}`,
        ...flags,
        '--watch',
        ...(keep ? ['--keep-on-stop'] : []),
      ]);
      await watcher.waitFor(/switchyard-cni installed/);
      watcher.child.kill('SIGTERM');
      expect(await watcher.exited).toBe(0);
      expect(types()).toEqual(keep ? ['bridge', 'switchyard-cni'] : ['bridge']);
    }
  });
});
