import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { repo } from './run-cli.js';

/** The built `switchyard` binary (the test command builds before testing). */
export const bin = resolve(repo, 'apps/cli/dist/bin.js');

/** What a `switchyard` process did. */
export interface BinResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runBin}. */
export interface RunBinOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Kill the process (SIGKILL) after this long; the result then has `signal` set. Default 20 s. */
  timeoutMs?: number;
  /** Send SIGTERM once standard error matches this (a long-running command that has started). */
  stopWhen?: RegExp;
}

/** Runs the built `switchyard` as its own process, as a user would, and collects what it printed. */
export function runBin(args: readonly string[], options: RunBinOptions = {}): Promise<BinResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.cwd ?? repo,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    let stopped = false;
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!stopped && options.stopWhen?.test(stderr)) {
        stopped = true;
        child.kill('SIGTERM');
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
}
