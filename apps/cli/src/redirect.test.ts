import { spawnSync } from 'node:child_process';
import {
  createLab,
  describePrivileged,
  type Lab,
  privilegedUnavailable,
} from '@switchyard/driver-tproxy/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bin } from './testing/run-bin.js';
import { cli } from './testing/run-cli.js';

describe('switchyard redirect (input handling, no host changes)', () => {
  it('plans with the memory driver from flags alone, using the default ports', async () => {
    const r = await cli(
      'redirect',
      'plan',
      '--driver',
      'memory',
      '--netns',
      'pod-a',
      '--inbound-port',
      '--outbound-port',
      '--json',
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      driver: 'memory',
      dryRun: true,
      changed: true,
      target: { kind: 'netns', name: 'pod-a' },
    });
    const policy = JSON.parse(out.artifact.content);
    expect([policy.inbound.port, policy.outbound.port]).toEqual([15006, 15001]);
  });

  it('turns every flag into the policy', async () => {
    const r = await cli(
      'redirect',
      'plan',
      '--driver',
      'memory',
      '--netns',
      '/proc/1/ns/net',
      '--inbound-port',
      '16006',
      '--outbound-port',
      '16001',
      '--exclude-port',
      '22',
      '--exclude-port',
      '15020-15021',
      '--exclude-cidr',
      '169.254.0.0/16',
      '--bypass-mark',
      '0x600',
      '--bypass-uid',
      '1337',
      '--ipv4',
      '--id',
      'flags',
      '--json',
    );
    expect(r.code).toBe(0);
    const policy = JSON.parse(JSON.parse(r.stdout).artifact.content);
    expect(policy).toMatchObject({
      id: 'flags',
      families: ['ipv4'],
      inbound: {
        port: 16006,
        excludePorts: [
          { from: 22, to: 22 },
          { from: 15020, to: 15021 },
        ],
      },
      outbound: { port: 16001, excludeCidrs: ['169.254.0.0/16'] },
      bypass: { mark: 0x600, uid: 1337 },
    });
  });

  it.each([
    [['redirect', 'apply', '--inbound-port'], /--netns NAME/],
    [['redirect', 'apply', '--netns', 'x'], /say what to capture/],
    [
      ['redirect', 'apply', '--netns', 'x', '--inbound-port', '0'],
      /--inbound-port "0": expected a whole number from 1 to 65535/,
    ],
    [
      [
        'redirect',
        'apply',
        '--netns',
        'x',
        '--inbound-port',
        '--exclude-cidr',
        '10.0.0.1/8',
        '--outbound-port',
      ],
      /host bits/,
    ],
    [
      ['redirect', 'apply', '--netns', 'x', '--inbound-port', '--bypass-mark', 'lots'],
      /--bypass-mark "lots"/,
    ],
    [
      ['redirect', 'apply', '--netns', 'x', '--policy', 'examples/policies/sidecar.yaml', '--inbound-port'],
      /not both/,
    ],
    [['redirect', 'apply', '--netns', 'x', '--policy', 'examples/policies/bad.json'], /3 problems/],
    [
      ['redirect', 'plan', '--netns', 'x', '--inbound-port', '--runtime-endpoint', 'unix:///x'],
      /--runtime-endpoint is for finding a --container/,
    ],
    [
      ['redirect', 'plan', '--netns', 'x', '--inbound-port', '--exclude-cidr', 'banana'],
      /--exclude-cidr only applies to outbound/,
    ],
    [
      ['redirect', 'plan', '--netns', 'x', '--outbound-port', '--exclude-cidr', 'banana'],
      /"banana" is not a CIDR block/,
    ],
  ])('exits 2 for %j', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('reports the tproxy driver as usable exactly when this host can run it', async () => {
    const r = await cli('drivers', '--json');
    const tproxy = JSON.parse(r.stdout).drivers.find((d: { name: string }) => d.name === 'tproxy');
    expect(tproxy.usable).toBe(privilegedUnavailable() === undefined);
  });
});

describePrivileged('switchyard redirect with the tproxy driver', () => {
  let lab: Lab;
  beforeEach(() => {
    lab = createLab();
  });
  afterEach(() => lab.destroy());

  it('as a user who may not enter the namespace: says to run as root, never "IPv6 is disabled"', () => {
    // The same binary without a single capability (setpriv, from util-linux beside nsenter): like
    // an unprivileged user, it is refused by nsenter before it can read anything.
    const asNobody = (...flags: string[]) =>
      spawnSync(
        'setpriv',
        [
          '--bounding-set=-all',
          '--inh-caps=-all',
          process.execPath,
          bin,
          'redirect',
          'plan',
          '--netns',
          lab.a.name,
          '--inbound-port',
          ...flags,
        ],
        { encoding: 'utf8' },
      );
    for (const r of [asNobody(), asNobody('--ipv4')]) {
      expect(r.status).toBe(1);
      expect(r.stderr).not.toMatch(/IPv6 is disabled/);
      expect(r.stderr).toMatch(
        /Operation not permitted; entering a network namespace needs root .*: run as root \[SWY_ERR_APPLY_FAILED\]/,
      );
    }
  });

  it('plan prints the script, apply writes the same, list reads it back, remove restores the namespace', async () => {
    const before = lab.run(lab.a.name, 'nft', 'list', 'ruleset');
    const flags = ['--netns', lab.a.name, '--inbound-port', '--outbound-port', '--exclude-port', '15008'];
    const plan = await cli('redirect', 'plan', ...flags);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('table inet switchyard {');
    expect(lab.run(lab.a.name, 'nft', 'list', 'ruleset')).toBe(before);

    const apply = await cli('redirect', 'apply', ...flags);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toBe(plan.stdout);
    expect(apply.stderr).toMatch(/applied to/);
    expect(lab.run(lab.a.name, 'nft', 'list', 'table', 'inet', 'switchyard')).toContain('tproxy to :15006');

    const list = await cli('redirect', 'list', '--netns', lab.a.name, '--json');
    expect(JSON.parse(list.stdout).policies[0].policy.inbound.excludePorts).toEqual([
      { from: 15008, to: 15008 },
    ]);

    const remove = await cli('redirect', 'remove', '--netns', lab.a.name);
    expect(remove.stdout).toBe('Removed 1 policy\n');
    expect(lab.run(lab.a.name, 'nft', 'list', 'ruleset')).toBe(before);
  });

  it('exits 2 for a namespace that does not exist', async () => {
    const r = await cli('redirect', 'apply', '--netns', 'swy-missing-ns', '--inbound-port');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not exist.*\[SWY_ERR_TARGET_NOT_FOUND\]/);
  });
});
