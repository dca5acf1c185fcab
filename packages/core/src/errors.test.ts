import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ApplyFailedError,
  ERROR_CLASSES,
  hasErrorCode,
  isSwitchyardError,
  PolicyInvalidError,
  SwitchyardError,
} from './errors.js';

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

  it('are recognised by brand and code, also when made by another copy of core', () => {
    // What a second copy of @switchyard/core makes: another class, the same Symbol.for brand.
    class ForeignError extends Error {
      readonly code = 'SWY_ERR_TARGET_UNSUPPORTED';
    }
    const foreign = Object.assign(new ForeignError('from a driver with its own core'), {
      [Symbol.for('switchyard.error')]: true,
    });
    expect(foreign instanceof SwitchyardError).toBe(false);
    expect(isSwitchyardError(foreign)).toBe(true);
    expect(hasErrorCode(foreign, 'SWY_ERR_TARGET_UNSUPPORTED')).toBe(true);
    expect(isSwitchyardError(new ApplyFailedError('x'))).toBe(true);
    expect(isSwitchyardError(Object.assign(new Error('x'), { code: 'SWY_ERR_APPLY_FAILED' }))).toBe(false);
    expect(isSwitchyardError({ [Symbol.for('switchyard.error')]: true, code: 'ENOENT' })).toBe(false);
    expect(isSwitchyardError(null)).toBe(false);
  });
});
