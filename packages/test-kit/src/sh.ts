import { execFileSync } from 'node:child_process';

/** Where and with what {@link shWith} runs a program. */
export interface ShOptions {
  cwd?: string;
  /** Written to its standard input. */
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Killed after this long, ms. Default: no limit. */
  timeoutMs?: number;
}

/** What a failed {@link sh} throws carries, besides its message: what the program printed, how it ended. */
export interface ShFailure {
  stdout: string | undefined;
  stderr: string | undefined;
  status: number | null | undefined;
  signal: NodeJS.Signals | null | undefined;
}

/**
 * Runs a program (no shell between) and returns its standard output. A failure throws, saying
 * which command failed where and what it printed on both outputs.
 */
export function sh(program: string, ...args: string[]): string {
  return shWith({}, program, ...args);
}

/** {@link sh} in a directory, with standard input, an environment or a time limit of its own. */
export function shWith(options: ShOptions, program: string, ...args: string[]): string {
  try {
    return execFileSync(program, args, {
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.input !== undefined ? { input: options.input } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
    });
  } catch (error) {
    const e = error as ShFailure & { message: string };
    const where = options.cwd ? ` in ${options.cwd}` : '';
    const printed = `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message;
    const failure: ShFailure = { stdout: e.stdout, stderr: e.stderr, status: e.status, signal: e.signal };
    throw Object.assign(new Error(`${[program, ...args].join(' ')} failed${where}:\n${printed}`), failure, {
      cause: error,
    });
  }
}
