/**
 * `@switchyard/cli` — the `switchyard` command. Import {@link run} to embed it or to drive it in
 * tests without spawning a process.
 *
 * @example
 * ```ts
 * import { processIo, run } from '@switchyard/cli';
 * process.exitCode = await run(['drivers', '--json'], processIo());
 * ```
 *
 * @module
 */
export { EXIT, type ExitCode } from './exit-codes.js';
export { type CliIo, processIo } from './io.js';
export { run } from './program.js';
