import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ApplyFailedError, ERROR_CLASSES, PolicyInvalidError, SwitchyardError } from './errors.js';

const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

function instances() {
  return ERROR_CLASSES.map((C) =>
    C === PolicyInvalidError
      ? new PolicyInvalidError([])
      : new (C as new (m: string) => SwitchyardError)('m'),
  );
}

describe('errors', () => {
  it('give every class a distinct SWY_ERR_ code and its own name', () => {
    const all = instances();
    const codes = all.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const e of all) {
      expect(e.code).toMatch(/^SWY_ERR_[A-Z_]+$/);
      expect(e.name).toBe(e.constructor.name);
      expect(e).toBeInstanceOf(SwitchyardError);
      expect(['input', 'failure']).toContain(e.kind);
    }
  });

  it('are documented in docs/errors.md, and every documented code exists', () => {
    const documented = [...docs.matchAll(/^\|\s*`(SWY_ERR_[A-Z_]+)`\s*\|\s*`(\w+)`\s*\|/gm)].map((m) => [
      m[1],
      m[2],
    ]);
    const actual = instances().map((e) => [e.code, e.name]);
    expect(documented.sort()).toEqual(actual.sort());
  });

  it('carry their cause', () => {
    const cause = new Error('EPERM');
    const e = new ApplyFailedError('nft refused the ruleset', { cause });
    expect(e.cause).toBe(cause);
  });
});
