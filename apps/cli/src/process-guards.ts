import type { CliIo } from './io.js';
import { reportError } from './report-error.js';

/**
 * Makes the `switchyard` process keep the CLI's promises outside `run()`: a reader that closes
 * the pipe early (`switchyard … | head -2`) ends the process quietly instead of an EPIPE stack
 * trace, and anything thrown outside a command is reported as one line (or one JSON object),
 * never as a stack trace.
 */
export function guardProcess(io: CliIo, json: boolean): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      // The reader has gone; there is nobody left to tell, so stop without a word.
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  const fatal = (error: unknown) => {
    process.exitCode = reportError(io, error, json);
    process.exit();
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}
