import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalizePolicy } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { policyComment, renderRuleset, routingCommands } from './render-ruleset.js';
import { DEFAULT_ROUTING } from './settings.js';
import { createLab, describePrivileged } from './testing/netns-lab.js';

const dir = join(import.meta.dirname, 'golden');
const scenarios = readdirSync(dir)
  .filter((f) => f.endsWith('.policy.json'))
  .map((f) => f.slice(0, -'.policy.json'.length));

describe('renderRuleset (golden files in src/golden: <scenario>.policy.json → <scenario>.nft)', () => {
  it('has scenarios to check', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(6);
  });

  for (const scenario of scenarios) {
    it(scenario, async () => {
      const policy = normalizePolicy(JSON.parse(readFileSync(join(dir, `${scenario}.policy.json`), 'utf8')));
      await expect(renderRuleset(policy, DEFAULT_ROUTING)).toMatchFileSnapshot(join(dir, `${scenario}.nft`));
    });
  }

  it('keeps the table comment under nft’s 128-byte limit for the longest possible policy', () => {
    const longest = normalizePolicy({
      id: 'a'.repeat(32),
      inbound: { port: 65535 },
      outbound: { port: 65534 },
      bypass: { mark: 0xffffffff, uid: 4294967294, gid: 4294967294 },
      priority: 255,
    });
    expect(Buffer.byteLength(policyComment(longest))).toBeLessThanOrEqual(128);
  });

  it('uses the routing numbers it is given', () => {
    const settings = { ...DEFAULT_ROUTING, tproxyMark: 0x222, routeTable: 200, rulePriority: 100 };
    const script = renderRuleset(normalizePolicy({ inbound: {} }), settings);
    expect(script).toContain('meta mark set 0x222');
    expect(routingCommands('ipv6', settings)).toEqual({
      rule: ['-6', 'rule', 'add', 'fwmark', '0x222', 'lookup', '200', 'priority', '100'],
      route: ['-6', 'route', 'replace', 'local', '::/0', 'dev', 'lo', 'table', '200'],
    });
  });
});

describePrivileged('golden rulesets against the kernel', () => {
  it('every golden script is accepted by nft in a fresh namespace (nft -c: checked, not committed)', () => {
    const lab = createLab();
    try {
      for (const scenario of scenarios) {
        const script = readFileSync(join(dir, `${scenario}.nft`), 'utf8');
        expect(
          () => lab.run(lab.a.name, 'nft', '-c', '-f', join(dir, `${scenario}.nft`)),
          scenario,
        ).not.toThrow();
        expect(script).toContain('table inet switchyard {');
      }
      expect(lab.run(lab.a.name, 'nft', 'list', 'ruleset')).toBe('');
    } finally {
      lab.destroy();
    }
  });
});
