import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { sh } from '@switchyard/test-kit';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { cli } from './testing/run-cli.js';

let counter = 0;

describePrivileged("the README's first capture, on a namespace fresh from ip netns add", () => {
  let ns: string;
  beforeEach(() => {
    ns = `swy-fresh-${process.pid % 10000}-${counter++}`;
    sh('ip', 'netns', 'add', ns); // loopback down, nothing else: what a new user starts from
  });
  afterEach(() => {
    sh('ip', 'netns', 'del', ns);
  });

  it('applies, bringing the loopback up, and removes', async () => {
    const apply = await cli(
      'redirect',
      'apply',
      '--netns',
      ns,
      '--inbound-port',
      '--outbound-port',
      '--exclude-port',
      '15008',
    );
    expect(apply.stderr).toMatch(/applied to/);
    expect(apply.code).toBe(0);
    expect(sh('ip', 'netns', 'exec', ns, 'ip', 'link', 'show', 'lo')).toMatch(/[<,]UP[,>]/);
    const remove = await cli('redirect', 'remove', '--netns', ns);
    expect(remove.stdout).toBe('Removed 1 policy\n');
  });

  it('names --ipv4 when the namespace has IPv6 disabled, in plan and apply, and works with it', async () => {
    sh('ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1');
    for (const verb of ['plan', 'apply']) {
      const r = await cli('redirect', verb, '--netns', ns, '--inbound-port', '--json');
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout).error).toMatchObject({
        code: 'SWY_ERR_POLICY_UNSUPPORTED',
        message: expect.stringMatching(/IPv6 is disabled .*--ipv4/),
      });
    }
    expect(sh('ip', 'netns', 'exec', ns, 'nft', 'list', 'ruleset')).toBe('');
    const ipv4 = await cli('redirect', 'apply', '--netns', ns, '--inbound-port', '--ipv4');
    expect(ipv4.code, ipv4.stderr).toBe(0);
  });
});
