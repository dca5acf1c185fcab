import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../../..');

describePrivileged('the README demo (scripts/demo.mjs)', () => {
  it('shows the response, the authorized identity, the real client address, and TLS-only bytes on the link — and cleans up', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['scripts/demo.mjs', '--json'], {
      cwd: repo,
      timeout: 90_000,
    });
    const facts = JSON.parse(stdout.trim().split('\n').at(-1) as string);
    expect(facts.response.marker).toMatch(/^PLAINTEXT-MARKER-/);
    expect(facts.authorizedIdentity).toBe('spiffe://cluster.local/ns/demo/sa/client');
    expect(facts.appSawSource).toBe(facts.a);
    expect(facts.wire.packets).toBeGreaterThan(4);
    expect(facts.wire.tlsRecordsSeen).toBe(true);
    expect(facts.wire.plaintextMarkerSeen).toBe(false);
    expect(facts.ok).toBe(true);
    expect(readdirSync('/run/netns').filter((n) => n.startsWith('swy-demo-'))).toEqual([]);
  }, 120_000);
});
