import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NetnsTarget, normalizePolicy } from '@switchyard/core';
import { describeDriverCompliance } from '@switchyard/core/testing';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { renderRuleset } from './render-ruleset.js';
import { DEFAULT_ROUTING } from './settings.js';
import { createLab, describePrivileged, type Lab, privilegedUnavailable } from './testing/netns-lab.js';
import { tproxyDriver } from './tproxy-driver.js';

const labs = new Map<string, Lab>();
if (!privilegedUnavailable()) {
  describeDriverCompliance({
    title: 'tproxy',
    create: () => tproxyDriver(),
    target: () => {
      const lab = createLab();
      labs.set(lab.b.name, lab);
      return { kind: 'netns', name: lab.b.name };
    },
    cleanup: (target) => {
      const name = (target as { name: string }).name;
      labs.get(name)?.destroy();
      labs.delete(name);
    },
    unsupportedTarget: { kind: 'hns-endpoint', id: '93f86a7f-e361-4362-b8a4-81bbb6a622dd' },
  });
}

const POLICY = {
  id: 'mesh',
  inbound: { port: 15006, excludePorts: [15008, '15020-15021'] },
  outbound: { port: 15001, excludeCidrs: ['169.254.169.254/32', 'fd00:ec2::254/128'], excludePorts: [53] },
  bypass: { uid: 1337 },
};

describePrivileged('tproxy driver on a real namespace', () => {
  let lab: Lab;
  let target: NetnsTarget;
  const driver = tproxyDriver();
  const state = () => ({
    ruleset: lab.run(lab.b.name, 'nft', 'list', 'ruleset'),
    rules4: lab.run(lab.b.name, 'ip', '-4', 'rule', 'show'),
    rules6: lab.run(lab.b.name, 'ip', '-6', 'rule', 'show'),
    routes4: lab.run(lab.b.name, 'ip', '-4', 'route', 'show', 'table', 'all'),
    routes6: lab.run(lab.b.name, 'ip', '-6', 'route', 'show', 'table', 'all'),
  });

  beforeEach(() => {
    lab = createLab();
    target = { kind: 'netns', name: lab.b.name };
    // Someone else's table and rule, which Switchyard must never touch.
    lab.run(lab.b.name, 'nft', 'add', 'table', 'ip', 'theirs');
    lab.run(
      lab.b.name,
      'nft',
      'add',
      'chain',
      'ip',
      'theirs',
      'input',
      '{ type filter hook input priority 0; }',
    );
    lab.run(lab.b.name, 'ip', 'rule', 'add', 'fwmark', '0x42', 'lookup', '42', 'priority', '100');
  });
  afterEach(() => lab.destroy());

  it('applies twice to the same ruleset, and removes back to exactly what was there before', async () => {
    const before = state();
    const first = await driver.apply(target, POLICY);
    const afterFirst = state();
    const second = await driver.apply(target, POLICY);
    expect(first.changed).toBe(true);
    expect(second.changed).toBe(false);
    expect(state()).toEqual(afterFirst);
    expect(afterFirst.ruleset).toContain('table inet switchyard');
    expect(afterFirst.rules4).toContain('fwmark 0x111 lookup 133');
    expect(afterFirst.rules6).toContain('fwmark 0x111 lookup 133');
    expect(afterFirst.ruleset).toContain('table ip theirs');
    expect(await driver.remove(target)).toBe(1);
    expect(state()).toEqual(before);
    expect(await driver.remove(target)).toBe(0);
  });

  it('reads the policy back from the kernel, not from memory', async () => {
    await driver.apply(target, POLICY);
    const listed = await tproxyDriver().list(target);
    expect(listed.map((p) => p.id)).toEqual(['mesh']);
    expect(listed[0]?.policy.outbound?.excludeCidrs).toEqual(['169.254.169.254/32', 'fd00:ec2::254/128']);
    expect(listed[0]?.policy.bypass).toEqual({ uid: 1337 });
  });

  it('drops the other family’s routing when a policy narrows to one family', async () => {
    await driver.apply(target, POLICY);
    await driver.apply(target, {
      ...POLICY,
      families: ['ipv4'],
      outbound: { ...POLICY.outbound, excludeCidrs: ['169.254.169.254/32'] },
    });
    const s = state();
    expect(s.rules4).toContain('lookup 133');
    expect(s.rules6).not.toContain('lookup 133');
    expect(s.routes6).not.toContain('table 133');
  });

  it('changes nothing for a rejected policy, an unsupported one, or a second policy id', async () => {
    await driver.apply(target, POLICY);
    const before = state();
    await expect(driver.apply(target, { inbound: { port: 0 } })).rejects.toMatchObject({
      code: 'SWY_ERR_POLICY_INVALID',
    });
    await expect(driver.apply(target, { ...POLICY, bypass: { userSid: 'S-1-5-18' } })).rejects.toMatchObject({
      code: 'SWY_ERR_POLICY_UNSUPPORTED',
    });
    await expect(driver.apply(target, { ...POLICY, id: 'other' })).rejects.toMatchObject({
      code: 'SWY_ERR_POLICY_CONFLICT',
    });
    await expect(driver.apply(target, POLICY, { dryRun: true })).resolves.toMatchObject({
      changed: false,
      dryRun: true,
    });
    expect(state()).toEqual(before);
  });

  it('rolls back the routing it added when the kernel refuses the ruleset', async () => {
    const before = state();
    // An nft that refuses every ruleset file, standing in for a kernel without TPROXY support.
    const bin = mkdtempSync(join(tmpdir(), 'swy-fake-nft-'));
    const realNft = execFileSync('sh', ['-c', 'command -v nft'], { encoding: 'utf8' }).trim();
    writeFileSync(
      join(bin, 'nft'),
      `#!/bin/sh\nif [ "$1" = "-f" ]; then echo "Error: Could not process rule: Operation not supported" >&2; exit 1; fi\nexec ${realNft} "$@"\n`,
      { mode: 0o755 },
    );
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      await expect(driver.apply(target, POLICY)).rejects.toMatchObject({
        code: 'SWY_ERR_APPLY_FAILED',
        message: expect.stringMatching(
          /nft refused the ruleset, so nothing was changed: .*Operation not supported/,
        ),
      });
    } finally {
      process.env.PATH = path;
      rmSync(bin, { recursive: true, force: true });
    }
    expect(state()).toEqual(before);
  });

  it('reports a missing namespace as SWY_ERR_TARGET_NOT_FOUND with a fix', async () => {
    await expect(driver.apply({ kind: 'netns', name: 'swy-no-such-ns' }, POLICY)).rejects.toMatchObject({
      code: 'SWY_ERR_TARGET_NOT_FOUND',
      message: expect.stringMatching(/ip netns add swy-no-such-ns/),
    });
    await expect(driver.list({ kind: 'netns', pid: 999999999 })).rejects.toMatchObject({
      code: 'SWY_ERR_TARGET_NOT_FOUND',
    });
  });

  it('addresses a namespace by path and by pid as well as by name', async () => {
    await driver.apply({ kind: 'netns', path: `/run/netns/${lab.b.name}` }, POLICY);
    const sleeper = spawn('ip', ['netns', 'exec', lab.b.name, 'sleep', '30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const pid = Number(lab.run(lab.b.name, 'sh', '-c', 'pgrep -n -x sleep').trim());
      expect((await driver.list({ kind: 'netns', pid })).map((p) => p.id)).toEqual(['mesh']);
    } finally {
      sleeper.kill();
    }
  });

  it('leaves the old or the new ruleset when nft is killed mid-transaction, never a mix', async () => {
    const oldPolicy = normalizePolicy(POLICY);
    const newPolicy = normalizePolicy({
      ...POLICY,
      outbound: { ...POLICY.outbound, excludePorts: Array.from({ length: 400 }, (_, i) => 20000 + i * 3) },
    });
    const script = renderRuleset(newPolicy, DEFAULT_ROUTING);
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      await driver.apply(target, oldPolicy);
      const nft = spawn('ip', ['netns', 'exec', lab.b.name, 'nft', '-f', '-'], {
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      nft.stdin.on('error', () => {});
      nft.stdin.end(script);
      await new Promise((r) => setTimeout(r, i % 7));
      nft.kill('SIGKILL');
      await new Promise((r) => nft.once('close', r));
      const [now] = await driver.list(target);
      expect([oldPolicy, newPolicy]).toContainEqual(now?.policy);
      seen.add(
        now?.policy === undefined ? 'none' : now.policy.outbound?.excludePorts.length === 400 ? 'new' : 'old',
      );
    }
    expect(seen.has('none')).toBe(false);
  });
});
