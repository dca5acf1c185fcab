import { describe, expect, it } from 'vitest';
import type { ServiceEndpoint } from './destination-resolver.js';
import { decideService } from './service-decision.js';

const meshed = (address: string): ServiceEndpoint => ({
  address,
  port: 8080,
  identities: [`spiffe://cluster.local/ns/web/sa/${address}`],
  state: 'mesh',
});
const plain = (address: string): ServiceEndpoint => ({ address, port: 8080, identities: [], state: 'plain' });
/** No known pod owns the address (no targetRef, a stale or unseen pod). */
const unverified = (address: string): ServiceEndpoint => ({
  address,
  port: 8080,
  identities: [],
  state: 'unverified',
});
/** Endpoint choice without chance: the candidates in the order given. */
const inOrder = (candidates: readonly ServiceEndpoint[]) => candidates.slice(0, 2);

describe('decideService', () => {
  it.each([
    ['no endpoints', [], false, 'deny', 'no-endpoints', []],
    ['one endpoint in the mesh', [meshed('a')], false, 'tunnel', undefined, ['a']],
    [
      'two in the mesh: chosen, then fallback',
      [meshed('a'), meshed('b')],
      false,
      'tunnel',
      undefined,
      ['a', 'b'],
    ],
    ['outside the mesh, passthrough off: refused', [plain('x')], false, 'deny', 'endpoint-outside-mesh', []],
    ['outside the mesh, passthrough on: plain TCP', [plain('x')], true, 'passthrough', undefined, ['x']],
    [
      'mixed, passthrough off: only the meshed ones',
      [plain('x'), meshed('a')],
      false,
      'tunnel',
      undefined,
      ['a'],
    ],
    [
      'mixed, passthrough on, a meshed pick: no plain fallback',
      [meshed('a'), plain('x')],
      true,
      'tunnel',
      undefined,
      ['a'],
    ],
    ['mixed, passthrough on, a plain pick', [plain('x'), meshed('a')], true, 'passthrough', undefined, ['x']],
    [
      'in the mesh with no identity to pin: never tunnelled to',
      [{ ...meshed('a'), identities: [] }],
      true,
      'deny',
      'endpoint-unverified',
      [],
    ],
    ['unverified, passthrough on: refused', [unverified('u')], true, 'deny', 'endpoint-unverified', []],
    ['unverified, passthrough off: refused', [unverified('u')], false, 'deny', 'endpoint-unverified', []],
    [
      'unverified beside plain, passthrough on: only the plain one',
      [unverified('u'), plain('x')],
      true,
      'passthrough',
      undefined,
      ['x'],
    ],
    [
      'unverified beside plain, passthrough off: outside the mesh',
      [unverified('u'), plain('x')],
      false,
      'deny',
      'endpoint-outside-mesh',
      [],
    ],
    [
      'unverified beside meshed: only the meshed one',
      [unverified('u'), meshed('a')],
      true,
      'tunnel',
      undefined,
      ['a'],
    ],
  ] as const)('%s → %s', (_name, endpoints, passthrough, kind, code, addresses) => {
    const d = decideService({
      service: 'web/api',
      endpoints,
      passthroughOutsideMesh: passthrough,
      pick: inOrder,
    });
    expect(d.kind).toBe(kind);
    if (d.kind === 'deny') {
      expect(d.code).toBe(code);
      expect(d.reason).toContain('web/api');
    }
    if (d.kind === 'tunnel') expect(d.attempts.map((e) => e.address)).toEqual(addresses);
    if (d.kind === 'passthrough') expect([d.endpoint.address]).toEqual(addresses);
  });
});
