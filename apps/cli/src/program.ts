import { InputInvalidError } from '@switchyard/core';
import { Command, CommanderError, Option } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { carrierRegistry } from './carrier-choice.js';
import { registryWith } from './driver-modules.js';
import { driverOptions } from './driver-options.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';
import { reportError } from './report-error.js';
import { addAboutCommands } from './tree/about.js';
import { addAgentCommand, runAgent } from './tree/agent.js';
import { addCaCommands } from './tree/ca.js';
import { addCaptureCommands } from './tree/capture.js';
import { type CommandContext, collect, envOption } from './tree/context.js';
import { addHnsCommands } from './tree/hns.js';
import { addMetadataProxyCommands } from './tree/metadata-proxy.js';
import { addProxyCommands } from './tree/proxy.js';

interface GlobalOptions {
  json?: boolean;
  driverModule: string[];
  carrierModule: string[];
  driverOption: string[];
  driverConfig?: string;
}

/** `--driver-module` / `--carrier-module`: repeatable, comma-separated in its variable. */
function moduleListOption(kind: 'driver' | 'carrier', what: string, env: string): Option {
  return envOption(
    `--${kind}-module <package>`,
    `load ${what} package, directory or file (repeatable; comma-separated in the variable)`,
    env,
  )
    .argParser((value: string, previous: string[]) => [...previous, ...value.split(',').filter(Boolean)])
    .default([]);
}

/** The root command and its global flags. */
function rootCommand(io: CliIo): Command {
  return (
    new Command('switchyard')
      .description('Switchyard: transparent capture and mTLS for Linux and Windows workloads')
      .version(packageJson.version, '-v, --version', 'print the version')
      .addOption(new Option('--json', 'print machine-readable JSON, also for errors'))
      .addOption(moduleListOption('driver', 'a third-party driver', 'SWITCHYARD_DRIVER_MODULE'))
      .addOption(
        moduleListOption('carrier', 'a third-party carrier for --carrier', 'SWITCHYARD_CARRIER_MODULE'),
      )
      .addOption(
        new Option(
          '--driver-option <key=value>',
          'an option for the driver a command creates (repeatable; JSON values)',
        )
          .argParser(collect)
          .default([]),
      )
      .addOption(
        envOption(
          '--driver-config <file>',
          'driver options as a JSON or YAML object',
          'SWITCHYARD_DRIVER_CONFIG',
        ),
      )
      .exitOverride()
      // Usage mistakes are reported by run() like every other error (one line, or JSON under --json).
      .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => {} })
      .addHelpText(
        'after',
        '\nExit codes: 0 ok, 1 failure on the host or in a driver, 2 bad input (nothing was changed).\nDocs: docs/cli.md, docs/errors.md',
      )
  );
}

/** Builds the `switchyard` command tree. Each action resolves to an exit code through `done`. */
export function buildProgram(io: CliIo, done: (code: number) => void): Command {
  const program = rootCommand(io);
  const globals = (cmd: Command) => cmd.optsWithGlobals() as GlobalOptions;
  const context: CommandContext = {
    io,
    done,
    registry: async (cmd) => {
      const g = globals(cmd);
      return registryWith(
        g.driverModule,
        io.cwd,
        await driverOptions(g.driverOption, g.driverConfig, io.cwd),
      );
    },
    carriers: (cmd) => carrierRegistry(globals(cmd).carrierModule, io.cwd),
    json: (cmd) => globals(cmd).json === true,
  };
  addCaptureCommands(program, context);
  addHnsCommands(program, context);
  addCaCommands(program, context);
  addProxyCommands(program, context);
  addAgentCommand(program, context);
  addMetadataProxyCommands(program, context);
  addAboutCommands(program, context);
  return program;
}

/**
 * Runs the `switchyard` command line with `argv` (without the node and script paths) and returns
 * the exit code: {@link EXIT}.ok, .failure or .input. Never calls `process.exit`.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  // The agent parses its own flags (`switchyard agent status --json`): hand it everything after.
  if (argv[0] === 'agent') return runAgent(argv.slice(1), io);
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  const json = argv.includes('--json');
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version arrive as "errors" through exitOverride; usage mistakes are bad input.
      if (error.exitCode === 0) return EXIT.ok;
      return reportError(io, usageError(error), json);
    }
    return reportError(io, error, json);
  }
}

/** A commander usage mistake as a Switchyard input error, its "error: " prefix dropped. */
function usageError(error: CommanderError): InputInvalidError {
  // A group run without a subcommand ("switchyard redirect") has printed its help to stderr.
  const message =
    error.code === 'commander.help'
      ? 'say which command to run: the commands are listed in the help above'
      : error.message.replace(/^error: /, '');
  return new InputInvalidError(`${message} (run with --help for usage)`, { cause: error });
}
