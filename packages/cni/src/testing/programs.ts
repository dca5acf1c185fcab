import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildNative,
  NATIVE_PROGRAMS,
  type NativeBinaries,
  type NativeVariant,
  nativeSourceDir,
} from '../build-native.js';

const buildRoot = fileURLToPath(new URL('../../build/', import.meta.url));

/** Both variants: the suites run against each. */
export const VARIANTS: readonly NativeVariant[] = ['release', 'sanitized'];

/** The programs of `variant`, compiled into the package's build/ when a source is newer. */
export async function programs(variant: NativeVariant): Promise<NativeBinaries> {
  const outDir = join(buildRoot, variant);
  const cni = join(outDir, NATIVE_PROGRAMS.cni);
  const runtime = join(outDir, NATIVE_PROGRAMS.runtime);
  const dir = nativeSourceDir();
  const newest = Math.max(...readdirSync(dir).map((f) => statSync(join(dir, f)).mtimeMs));
  const fresh = [cni, runtime].every((p) => existsSync(p) && statSync(p).mtimeMs >= newest);
  return fresh ? { cni, runtime } : buildNative({ outDir, variant });
}

/** A finished child process. */
export interface Finished {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Sanitizer settings: every finding fatal and reported on standard error. */
export const SANITIZER_ENV = {
  ASAN_OPTIONS: 'detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=86',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1:exitcode=87',
};

/**
 * Runs a program with `env` only (plus PATH and the sanitizer settings) and `stdin`, without
 * blocking the event loop (the agent stand-in answers from this same process).
 */
export function runProgram(
  program: string,
  args: string[],
  env: Record<string, string>,
  stdin: string | Buffer = '',
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...SANITIZER_ENV, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.stdin.on('error', () => undefined); // the program may exit before reading it all (oversized input)
    child.on('error', reject);
    child.on('close', (status, signal) =>
      resolve({
        status,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    child.stdin.end(stdin);
  });
}

/** Whether a sanitizer reported anything. */
export function sanitizerReport(stderr: string): boolean {
  return /Sanitizer|runtime error:/.test(stderr);
}
