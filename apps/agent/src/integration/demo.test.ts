import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));

describePrivileged('the README demo (scripts/demo.mjs) on the agent', () => {
  it('one agent carries HBONE between two namespaces, survives kill -9 without duplicating anything, drops a removed workload, and cleans up', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['scripts/demo.mjs', '--json', '--hbone'],
      {
        cwd: repo,
        timeout: 90_000,
      },
    );
    const facts = JSON.parse(stdout.trim().split('\n').at(-1) as string);
    expect(facts.carriedAs).toBe('hbone');
    expect(facts.appSawSource).toBe(facts.a);
    expect(facts.wire).toMatchObject({ tlsRecordsSeen: true, plaintextMarkerSeen: false });
    expect(facts.restart).toEqual({
      refusedWhileDown: true,
      nothingDuplicated: true,
      tables: 2,
      flowsAgain: true,
    });
    expect(facts.removal.rulesGone).toBe(true);
    expect(facts.removal.ms).toBeLessThan(2000);
    expect(facts.ok).toBe(true);
    expect(readdirSync('/run/netns').filter((n) => n.startsWith('swy-demo-'))).toEqual([]);
  }, 120_000);
});
