import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSpiffeId, type SpiffeId } from '@switchyard/mesh';
import { describe, expect, it } from 'vitest';
import { checkServerIdentity, identitiesFromFile, singleSpiffeId, staticIdentities } from './identity.js';

const self = parseSpiffeId('spiffe://cluster.local/ns/web/sa/client') as SpiffeId;
const API = 'spiffe://cluster.local/ns/web/sa/api';
const DB = 'spiffe://cluster.local/ns/data/sa/db';
const resolver = staticIdentities({ '10.0.0.7': [API] });

describe('checkServerIdentity', () => {
  it.each([
    ['the expected identity', [API], '10.0.0.7', 'refuse', true, undefined],
    [
      'another identity of the trust domain (an impostor)',
      [DB],
      '10.0.0.7',
      'refuse',
      false,
      'unexpected-identity',
    ],
    ['two SPIFFE IDs, the expected one first', [API, DB], '10.0.0.7', 'refuse', false, 'several-identities'],
    ['no SPIFFE ID', [], '10.0.0.7', 'refuse', false, 'no-identity'],
    ['an unknown destination without fallback', [API], '10.0.0.8', 'refuse', false, 'unknown-destination'],
    [
      'an unknown destination with the trust-domain fallback',
      [DB],
      '10.0.0.8',
      'trust-domain',
      true,
      undefined,
    ],
    [
      'another trust domain under the fallback',
      ['spiffe://other.local/ns/web/sa/api'],
      '10.0.0.8',
      'trust-domain',
      false,
      'policy',
    ],
  ] as const)('%s', (_name, presented, address, fallback, allowed, code) => {
    const d = checkServerIdentity({ presented, address, resolver, fallback, self });
    expect(d.allowed).toBe(allowed);
    expect(d.code).toBe(code);
  });

  it('applies allow rules after pinning', () => {
    const d = checkServerIdentity({
      presented: [API],
      address: '10.0.0.7',
      resolver,
      fallback: 'refuse',
      self,
      authorization: { allow: [{ namespace: 'data' }] },
    });
    expect(d).toMatchObject({ allowed: false, code: 'policy' });
  });
});

describe('staticIdentities', () => {
  it('finds an entry under any spelling of its address, and refuses keys that are not addresses', () => {
    const r = staticIdentities({ 'fd00:0::7': [API], '10.0.0.7': [DB] });
    expect(r.expected('fd00::7')).toEqual([API]);
    expect(r.expected('::ffff:10.0.0.7')).toEqual([DB]);
    expect(() => staticIdentities({ 'api.web.svc': [API] })).toThrow(/not an IP address/);
  });
});

describe('singleSpiffeId', () => {
  it('takes exactly one', () => {
    expect(singleSpiffeId([API])).toEqual({ id: API });
    expect(singleSpiffeId([API, DB]).reason).toMatch(/exactly one/);
    expect(singleSpiffeId([]).reason).toMatch(/no SPIFFE identity/);
  });
});

describe('identitiesFromFile', () => {
  it('reads a YAML map, and names every bad entry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swy-ids-'));
    try {
      await writeFile(join(dir, 'ok.yaml'), `10.0.0.7: [${API}]\n`);
      expect((await identitiesFromFile(join(dir, 'ok.yaml'))).expected('10.0.0.7')).toEqual([API]);
      await writeFile(join(dir, 'bad.yaml'), '10.0.0.7: banana\n10.0.0.8: [not-spiffe]\n');
      await expect(identitiesFromFile(join(dir, 'bad.yaml'))).rejects.toThrow(
        /10\.0\.0\.7: expected.*10\.0\.0\.8: expected/,
      );
      await expect(identitiesFromFile(join(dir, 'missing.yaml'))).rejects.toMatchObject({
        code: 'SWY_ERR_INPUT_INVALID',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
