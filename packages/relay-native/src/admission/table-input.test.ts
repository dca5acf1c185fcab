// Hostile tables: the engine's parser refuses every malformed one with a clear error and keeps
// the table it had (the ASan suite runs this too: cut and corrupted tables read nothing out of bounds).
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRelayAddon } from '../load-addon.js';
import { encodeAdmissionTable } from './encode-table.js';

const PEER = 'spiffe://cluster.local/ns/api/sa/server';
const VALID = encodeAdmissionTable([
  { slot: 1, selfTrustDomain: 'cluster.local', rules: [{ namespace: 'api' }] },
  { slot: 7, selfTrustDomain: 'cluster.local', rules: [{ spiffeId: PEER, serviceAccount: 'server' }, {}] },
]);

function withU32(b: Buffer, at: number, v: number): Buffer {
  const out = Buffer.from(b);
  out.writeUInt32LE(v, at);
  return out;
}

function withByte(b: Buffer, at: number, v: number): Buffer {
  const out = Buffer.from(b);
  out[at] = v;
  return out;
}

describe('admission tables from hostile input', () => {
  // the addon itself: these bytes never come from the table class, which encodes only good ones
  const addon = loadRelayAddon();
  const engine = addon.createEngine(
    { threads: 1, idleTimeoutMs: 0, handshakeTimeoutMs: 0, pipeSize: 0, h2IdleTimeoutMs: 0 },
    () => undefined,
  );
  afterAll(() => addon.closeEngine(engine));
  const install = (bytes: Buffer) => addon.setAdmission(engine, bytes);
  const ask = (slot: number) =>
    addon.admissionDecideForTesting(engine, { slot, pinned: false, trustDomainFallback: false }, PEER)
      .verdict;

  it('refuses cut, corrupted and oversized tables with one clear error, keeping the table it had', () => {
    install(VALID);
    expect(ask(1)).toBe('accepted');
    const bad: Buffer[] = [
      Buffer.alloc(0),
      Buffer.concat([VALID, Buffer.from([0])]), // trailing bytes
      Buffer.from(VALID).fill(0, 0, 4), // magic
      withU32(VALID, 4, 0xffffffff), // policy count
      withU32(VALID, 8 + 4 + 2 + 13 + 2 + 1 + 2 + 3 + 1, 0), // the second slot (0) below the first
      withByte(VALID, 12, 0), // the trust domain's length: 0
      withByte(VALID, 15, 0), // a NUL inside the trust domain
      ...Array.from({ length: VALID.length - 1 }, (_, n) => VALID.subarray(0, n)), // every cut
    ];
    for (const bytes of bad) {
      expect(() => install(bytes)).toThrow(/admission table/);
      expect(ask(1)).toBe('accepted'); // unchanged
    }
    expect(() => addon.setAdmission(engine, 'not a buffer' as unknown as Buffer)).toThrow(/must be a Buffer/);
    expect(addon.admissionLiveTables(engine)).toBe(1);
  });

  it('survives thousands of randomly corrupted tables: each is refused or installed whole', () => {
    let refused = 0;
    for (let i = 0; i < 5_000; i++) {
      const bytes = Buffer.from(VALID);
      for (let k = 0; k <= i % 4; k++)
        bytes[(i * 7919 + k * 104729) % bytes.length] = randomBytes(1)[0] as number;
      try {
        install(i % 3 === 0 ? bytes.subarray(0, (i * 31) % bytes.length) : bytes);
      } catch (error) {
        expect((error as Error).message).toMatch(/admission table/);
        refused += 1;
      }
      expect(['accepted', 'refused', 'ask']).toContain(ask(1));
    }
    expect(refused).toBeGreaterThan(1_000);
    install(VALID);
    expect(ask(7)).toBe('accepted');
    expect(addon.admissionLiveTables(engine)).toBe(1);
  });
});
