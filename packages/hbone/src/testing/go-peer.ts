import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** Where the interop peers live: python3-h2 scripts and the Go program's folder. */
export const INTEROP_DIR = join(import.meta.dirname, '..', '..', 'interop');

/** The Go interop peer, built: its binary, and what removes it. */
export interface GoPeer {
  binary: string;
  dispose(): Promise<void>;
}

/**
 * Builds the Go interop peer (`interop/go`: an HBONE client, a server, the attack tests'
 * legitimate peer) offline from its one folder, Go's standard library only.
 */
export async function buildGoPeer(): Promise<GoPeer> {
  const dir = await mkdtemp(join(tmpdir(), 'swy-go-'));
  const binary = join(dir, 'hbone-go');
  await promisify(execFile)('go', ['build', '-o', binary, '.'], {
    cwd: join(INTEROP_DIR, 'go'),
    env: { ...process.env, GO111MODULE: 'off', GOPROXY: 'off', GOFLAGS: '', GOCACHE: join(dir, 'cache') },
    timeout: 120_000,
  });
  return { binary, dispose: () => rm(dir, { recursive: true, force: true }) };
}
