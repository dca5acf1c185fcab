import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot as repo } from '@switchyard/test-kit';
import { expect } from 'vitest';
import type { AttackLab } from './attack-lab.js';
import { HOLD_SECONDS } from './held.js';

// The TLS 1.3 record floods of the held tests, shared by every carrier's file.

const run = promisify(execFile);
/** TLS 1.3 records written by hand after Python's ssl handshake (Debian's OpenSSL). */
const RECORDS = resolve(repo, 'packages/dataplane/interop/tls13_records.py');
/** Connections the attacker floods from at once, each reconnecting whenever it is reset. */
export const FLOODERS = 4;

export interface FloodTally {
  connections: number;
  failed_connections: number;
  closed_by_server: number;
  key_updates: number;
  records: number;
  most_key_updates_one_connection: number;
  most_records_one_connection: number;
}

/**
 * The hand-written records from the attacker's namespace, held for {@link HOLD_SECONDS}, from an
 * address of their own (a source that floods is penalized for a while).
 */
export async function flood(lab: AttackLab, kind: 'mtls' | 'hbone', mode: string): Promise<FloodTally> {
  const { host, port } = lab.target;
  // HBONE: the data bytes are a valid HTTP/2 connection, so the server reads on (see the script)
  const full = kind === 'hbone' ? `${mode}+h2` : mode;
  const [source] = lab.sources(1);
  const args = [
    RECORDS,
    host,
    `${port}`,
    lab.certs.peer,
    full,
    `${HOLD_SECONDS}`,
    `${FLOODERS}`,
    `${source}`,
  ];
  const { stdout } = await run('ip', ['netns', 'exec', lab.lab.a.name, '/usr/bin/python3', ...args], {
    timeout: (HOLD_SECONDS + 30) * 1000,
  });
  return JSON.parse(stdout);
}

/** What every flood must show: its connections reset, at most a few at a time, and counted. */
export function expectReset(result: FloodTally, counted: number): void {
  expect(result.connections).toBeGreaterThan(0);
  expect(result.closed_by_server).toBeGreaterThanOrEqual(result.connections - FLOODERS);
  expect(counted).toBeGreaterThanOrEqual(Math.max(1, result.connections - FLOODERS));
}
