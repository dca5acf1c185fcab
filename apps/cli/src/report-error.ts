import { InternalError, isSwitchyardError, type SwitchyardError } from '@switchyard/core';
import { EXIT, type ExitCode } from './exit-codes.js';
import { type CliIo, printJson } from './io.js';

/**
 * Any thrown value as a Switchyard error: branded errors (from any copy of core, so a driver with
 * its own core is recognised) pass through; anything else is an {@link InternalError} carrying its
 * message, so no stack trace ever reaches the user.
 */
export function asSwitchyardError(error: unknown): SwitchyardError {
  if (isSwitchyardError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new InternalError(message, { cause: error });
}

/**
 * Prints a failure: one `{"error": {name, code, message, …}}` object on stdout under `--json`,
 * otherwise one `switchyard: MESSAGE [CODE]` line on stderr. Returns the exit code it calls for.
 */
export function reportError(io: CliIo, error: unknown, json: boolean): ExitCode {
  const e = asSwitchyardError(error);
  if (json) printJson(io, { error: e.toJSON() });
  else io.stderr(`switchyard: ${e.message} [${e.code}]\n`);
  return e.kind === 'input' ? EXIT.input : EXIT.failure;
}
