import { describe, expect, it } from 'vitest';
import { PolicyInvalidError } from './errors.js';
import { MAX_LIST_ENTRIES, normalizePolicy, validatePolicy } from './validate-policy.js';

function issuesOf(input: unknown) {
  const result = validatePolicy(input);
  if (result.ok) throw new Error('expected the policy to be refused');
  return result.issues;
}

describe('validatePolicy', () => {
  it('fills every default for the smallest policy', () => {
    expect(validatePolicy({ inbound: {} })).toEqual({
      ok: true,
      policy: {
        id: 'default',
        protocol: 'tcp',
        families: ['ipv4', 'ipv6'],
        inbound: { port: 15006, includePorts: [], excludePorts: [] },
        bypass: {},
        priority: 0,
      },
    });
  });

  it('normalizes ports, ranges and CIDRs into a canonical order', () => {
    const result = validatePolicy({
      id: 'mesh',
      families: ['ipv6', 'ipv4'],
      inbound: { port: 15006, excludePorts: [15021, '15020', 15008, '15000-15010'] },
      outbound: {
        excludeCidrs: ['fd00::/8', '10.96.0.0/12', 'fd00::/8', '10.96.1.0/24', 'fd12::/16'],
        includePorts: ['80', 443],
      },
      bypass: { mark: 0x539, uid: 1337, userSid: 's-1-5-32-556' },
      priority: 3,
    });
    expect(result).toEqual({
      ok: true,
      policy: {
        id: 'mesh',
        protocol: 'tcp',
        families: ['ipv4', 'ipv6'],
        inbound: {
          port: 15006,
          includePorts: [],
          excludePorts: [
            { from: 15000, to: 15010 },
            { from: 15020, to: 15021 },
          ],
        },
        outbound: {
          port: 15001,
          includeCidrs: [],
          excludeCidrs: ['10.96.0.0/12', 'fd00::/8'],
          includePorts: [
            { from: 80, to: 80 },
            { from: 443, to: 443 },
          ],
          excludePorts: [],
        },
        bypass: { mark: 0x539, uid: 1337, userSid: 'S-1-5-32-556' },
        priority: 3,
      },
    });
  });

  it('is idempotent: a normalized policy normalizes to itself', () => {
    const once = normalizePolicy({
      inbound: { excludePorts: ['8000-8100'] },
      outbound: { excludeCidrs: ['10.0.0.0/8'] },
    });
    expect(normalizePolicy(once)).toEqual(once);
  });

  it('reports every problem at once, each with its field path', () => {
    const issues = issuesOf({
      inbound: { port: 0, excludePorts: [70000, '20-10'] },
      outbound: { port: 15006, excludeCidrs: ['10.0.0.1/8', 'nonsense', 'fd00::/8'] },
      families: ['ipv4'],
      bypass: { mark: 0, uid: -1, userSid: 'admin' },
      priority: 70000,
      protocl: 'tcp',
    });
    expect(issues.map((i) => i.path)).toEqual([
      'protocl',
      'inbound.port',
      'inbound.excludePorts[0]',
      'inbound.excludePorts[1]',
      'outbound.excludeCidrs[0]',
      'outbound.excludeCidrs[1]',
      'outbound.excludeCidrs[2]',
      'bypass.mark',
      'bypass.uid',
      'bypass.userSid',
      'priority',
    ]);
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    expect(byPath.protocl).toMatch(/unknown field "protocl"/);
    expect(byPath['inbound.excludePorts[1]']).toMatch(/runs backwards.*"10-20"/);
    expect(byPath['outbound.excludeCidrs[0]']).toMatch(/host bits set.*"10\.0\.0\.0\/8"/);
    expect(byPath['outbound.excludeCidrs[2]']).toMatch(/IPv6 but "families"/);
    expect(byPath['bypass.userSid']).toMatch(/S-1-5-32-556/);
  });

  it('refuses the same port for both directions', () => {
    expect(issuesOf({ inbound: { port: 9000 }, outbound: { port: 9000 } })).toEqual([
      { path: 'outbound.port', message: expect.stringMatching(/same as inbound.port \(9000\)/) },
    ]);
  });

  it.each([
    ['not an object', 'tcp', ''],
    ['nothing to capture', {}, ''],
    ['udp, not yet supported', { protocol: 'udp', inbound: {} }, 'protocol'],
    ['an empty family list', { families: [], inbound: {} }, 'families'],
    ['a repeated family', { families: ['ipv4', 'ipv4'], inbound: {} }, 'families[1]'],
    ['a bad id', { id: 'Has Spaces', inbound: {} }, 'id'],
    ['a list that is not a list', { outbound: { excludePorts: 22 } }, 'outbound.excludePorts'],
    ['a capture that is not an object', { inbound: true }, 'inbound'],
  ])('refuses %s', (_label, input, path) => {
    const issues = issuesOf(input);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe(path);
    expect(issues[0]?.message.length).toBeGreaterThan(10);
  });

  it('normalizePolicy throws PolicyInvalidError listing every issue in its message', () => {
    try {
      normalizePolicy({ inbound: { port: 'x' }, priority: -1 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PolicyInvalidError);
      const e = error as PolicyInvalidError;
      expect(e.code).toBe('SWY_ERR_POLICY_INVALID');
      expect(e.issues).toHaveLength(2);
      expect(e.message).toContain('inbound.port');
      expect(e.message).toContain('priority');
    }
  });
});

describe('policy size', () => {
  it(`refuses a list longer than MAX_LIST_ENTRIES with the limit and the fix`, () => {
    const cidrs = Array.from(
      { length: MAX_LIST_ENTRIES + 1 },
      (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}/32`,
    );
    const result = validatePolicy({ outbound: { excludeCidrs: cidrs } });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues).toEqual([
      {
        path: 'outbound.excludeCidrs',
        message: `lists ${MAX_LIST_ENTRIES + 1} entries, more than the ${MAX_LIST_ENTRIES} a policy list may hold; merge them into wider blocks`,
      },
    ]);
  });

  it('normalises 4,000 excluded CIDRs (132 s when it was quadratic) to the same minimal set', () => {
    const cidrs = Array.from({ length: 4000 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
    const result = validatePolicy({ outbound: { excludeCidrs: [...cidrs, '10.0.0.0/16', '10.0.0.0/24'] } });
    expect(result.ok && result.policy.outbound?.excludeCidrs.length).toBe(4000 - 256 + 1);
  });
});
