import type { DriverRegistry } from '@switchyard/core';
import type { CarrierRegistry } from '@switchyard/dataplane';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { CliIo } from '../io.js';

/** What every command's action needs: where to write, how to finish, and the global flags. */
export interface CommandContext {
  io: CliIo;
  /** Records the command's exit code. */
  done: (code: number) => void;
  /** The driver registry with `--driver-module`s loaded and `--driver-option`s applied. */
  registry: (cmd: Command) => Promise<DriverRegistry>;
  /** The carrier registry with `--carrier-module`s loaded. */
  carriers: (cmd: Command) => Promise<CarrierRegistry>;
  /** Whether `--json` was given. */
  json: (cmd: Command) => boolean;
}

/** Argument parser of a repeatable flag: each use adds to the list. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Argument parser of a flag that may be given once: a second use is refused, not silently the winner. */
export const once = (value: string, previous: string | undefined): string => {
  if (previous !== undefined)
    throw new InvalidArgumentError(`given twice ("${previous}", then "${value}"); give it once`);
  return value;
};

/**
 * A flag that can also be set by a `SWITCHYARD_*` environment variable, for settings that live as
 * long as a deployment (a flag on the command line wins). docs/cli.md lists them.
 */
export function envOption(flags: string, description: string, env: string): Option {
  return new Option(flags, description).env(env);
}

/**
 * The flags of `cmd` whose value came from their `SWITCHYARD_*` variable, flag → variable: a
 * message about a bad value then names the variable the user set, not a flag never typed.
 */
export function envSourced(cmd: Command): Record<string, string> {
  const sourced: Record<string, string> = {};
  for (const option of cmd.options)
    if (option.envVar && option.long && cmd.getOptionValueSource(option.attributeName()) === 'env')
      sourced[option.long] = option.envVar;
  return sourced;
}
