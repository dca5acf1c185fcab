import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { initCa, issueWorkloadCertificate } from '@switchyard/mesh';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './testing/run-cli.js';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'swy-flags-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Exit 2 with the code, and `message` on stderr. */
const badInput = (message: RegExp) => ({
  code: 2,
  stdout: '',
  stderr: expect.stringMatching(
    new RegExp(`^switchyard: ${message.source}.* \\[SWY_ERR_INPUT_INVALID\\]\\n$`),
  ),
});

describe('flags say what they accept, and a mistake changes nothing', () => {
  it('a capture port flag gives the range it really accepts (0 is not a port)', async () => {
    for (const value of ['abc', '0'])
      expect(await cli('redirect', 'plan', '--netns', 'x', '--inbound-port', value)).toEqual(
        badInput(new RegExp(`--inbound-port "${value}": expected a whole number from 1 to 65535`)),
      );
    expect(await cli('redirect', 'plan', '--netns', 'x', '--outbound-port', '0')).toEqual(
      badInput(/--outbound-port "0": expected a whole number from 1 to 65535/),
    );
  });

  it('redirect remove refuses an id no policy can have, before it looks at the target', async () => {
    expect(await cli('redirect', 'remove', '--netns', 'swy-no-such-ns', '--id', 'Bad Id!')).toEqual(
      badInput(/--id "Bad Id!" cannot name a policy \(an id is 1–32 lowercase letters/),
    );
  });

  it('--netns given twice is refused, not silently the last one', async () => {
    for (const command of [
      ['redirect', 'plan', '--inbound-port'],
      ['proxy', 'mtls', '--cert-dir', scratch],
    ])
      expect(await cli(...command, '--netns', 'a', '--netns', 'b')).toEqual(
        badInput(/.*--netns.* given twice \("a", then "b"\); give it once/),
      );
  });

  it('a bad value from a SWITCHYARD_* variable names the variable, not a flag never typed', async () => {
    process.env.SWITCHYARD_ADMIN_PORT = 'abc';
    try {
      for (const proxy of ['mtls', 'hbone'])
        expect(await cli('proxy', proxy, '--cert-dir', scratch)).toEqual(
          badInput(/SWITCHYARD_ADMIN_PORT \(--admin-port\) "abc": expected a whole number from 1 to 65535/),
        );
      // Typed on the command line, it is the flag's mistake.
      expect(await cli('proxy', 'mtls', '--cert-dir', scratch, '--admin-port', 'xyz')).toEqual(
        badInput(/--admin-port "xyz": expected/),
      );
    } finally {
      delete process.env.SWITCHYARD_ADMIN_PORT;
    }
  });

  it('proxy --netns naming no namespace is bad input as for redirect: exit 2, SWY_ERR_TARGET_NOT_FOUND', async () => {
    await initCa({ dir: join(scratch, 'ca'), trustDomain: 'cluster.local' });
    const { dir } = await issueWorkloadCertificate({
      caDir: join(scratch, 'ca'),
      namespace: 'web',
      serviceAccount: 'api',
      outDir: join(scratch, 'api'),
    });
    const ns = `swy-no-such-ns-${process.pid}`;
    for (const proxy of ['mtls', 'hbone']) {
      const r = await cli('proxy', proxy, '--cert-dir', dir, '--netns', ns, '--no-admin');
      expect(r.code).toBe(2);
      // the user's one line, and nothing logged before it
      expect(r.stderr).toMatch(
        new RegExp(
          `^switchyard: network namespace /run/netns/${ns} does not exist; create it with "ip netns add ${ns}".* \\[SWY_ERR_TARGET_NOT_FOUND\\]\\n$`,
        ),
      );
    }
  });

  it('a YAML mistake is placed once, without a dangling colon', async () => {
    const file = join(scratch, 'bad.yaml');
    await writeFile(file, 'a: b\n  c: d: e\n');
    const r = await cli('policy', 'validate', file);
    expect(r).toEqual(
      badInput(
        /.*bad\.yaml is not valid JSON or YAML at line 1, column 4: Nested mappings are not allowed in compact mappings/,
      ),
    );
    expect(r.stderr.match(/at line \d+, column \d+/g)).toHaveLength(1);
    expect(r.stderr).not.toMatch(/: \[SWY_ERR/);
  });
});

describePrivileged('redirect list for a person', () => {
  const ns = `swy-flags-${process.pid}`;
  beforeAll(() => execFileSync('ip', ['netns', 'add', ns]));
  afterAll(() => execFileSync('ip', ['netns', 'del', ns]));

  it('prints each policy as its id and indented YAML (JSON only under --json)', async () => {
    expect(
      (await cli('redirect', 'apply', '--netns', ns, '--inbound-port', '--exclude-port', '22')).code,
    ).toBe(0);
    try {
      const text = await cli('redirect', 'list', '--netns', ns);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/^policy default\n {2}id: default\n {2}protocol: tcp\n/);
      expect(text.stdout).toMatch(/\n {2}inbound:\n {4}port: 15006\n/);
      expect(text.stdout).not.toContain('"'); // no JSON strings
      const json = JSON.parse((await cli('--json', 'redirect', 'list', '--netns', ns)).stdout);
      expect(json.policies[0]).toMatchObject({ id: 'default', policy: { inbound: { port: 15006 } } });
    } finally {
      await cli('redirect', 'remove', '--netns', ns);
    }
  });
});
