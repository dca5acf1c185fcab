import { execFileSync } from 'node:child_process';

/** Where and with what {@link shWith} runs a program. */
export interface ShOptions {
  cwd?: string;
  /** Written to its standard input. */
  input?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs a program (no shell between) and returns its standard output. A failure throws, with the
 * program's standard error in the message.
 */
export function sh(program: string, ...args: string[]): string {
  return shWith({}, program, ...args);
}

/** {@link sh} in a directory, with standard input or an environment of its own. */
export function shWith(options: ShOptions, program: string, ...args: string[]): string {
  return execFileSync(program, args, {
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.input !== undefined ? { input: options.input } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
}
