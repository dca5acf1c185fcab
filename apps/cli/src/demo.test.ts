import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { expect, it } from 'vitest';
import { repo } from './testing/run-cli.js';

describePrivileged('the README demo (scripts/demo.mjs)', () => {
  it.each([
    ['mTLS', [] as string[]],
    ['HBONE', ['--hbone']],
  ])(
    '%s: shows the response, the authorized identity, the real client address, and TLS-only bytes on the link — and cleans up',
    async (_mode, flags) => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['scripts/demo.mjs', '--json', ...flags],
        { cwd: repo, timeout: 90_000 },
      );
      const facts = JSON.parse(stdout.trim().split('\n').at(-1) as string);
      expect(facts.response.marker).toMatch(/^PLAINTEXT-MARKER-/);
      expect(facts.authorizedIdentity).toBe('spiffe://cluster.local/ns/demo/sa/client');
      expect(facts.appSawSource).toBe(facts.a);
      expect(facts.carriedAs).toBe(flags.length > 0 ? 'hbone' : 'mtls');
      expect(facts.wire.packets).toBeGreaterThan(4);
      expect(facts.wire.tlsRecordsSeen).toBe(true);
      expect(facts.wire.plaintextMarkerSeen).toBe(false);
      expect(facts.ok).toBe(true);
      expect(readdirSync('/run/netns').filter((n) => n.startsWith('swy-demo-'))).toEqual([]);
    },
    120_000,
  );
});
