import { type SwitchyardError, SwitchyardError as SwitchyardErrorClass } from '@switchyard/core';
import { Command, CommanderError, Option } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { driversCommand } from './commands/drivers.js';
import { policyValidateCommand } from './commands/policy-validate.js';
import { registryWith } from './driver-modules.js';
import { EXIT } from './exit-codes.js';
import { type CliIo, printJson } from './io.js';

interface GlobalOptions {
  json?: boolean;
  driverModule: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Builds the `switchyard` command tree. Each action resolves to an exit code through `done`. */
function buildProgram(io: CliIo, done: (code: number) => void): Command {
  const program = new Command('switchyard')
    .description('Switchyard: transparent capture and mTLS for Linux and Windows workloads')
    .version(packageJson.version, '-v, --version', 'print the version')
    .addOption(new Option('--json', 'print machine-readable JSON'))
    .addOption(
      new Option(
        '--driver-module <package>',
        'load a third-party driver package, directory or file (repeatable)',
      )
        .argParser(collect)
        .default([]),
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 failure on the host or in a driver, 2 bad input (nothing was changed).\nDocs: docs/cli.md, docs/errors.md',
    );

  const globals = (cmd: Command) => cmd.optsWithGlobals() as GlobalOptions;

  program
    .command('drivers')
    .description('list every driver, whether it can work on this host, and if not why and how to fix it')
    .action(async (_opts, cmd: Command) => {
      const g = globals(cmd);
      done(await driversCommand(await registryWith(g.driverModule, io.cwd), io, g.json === true));
    });

  const policy = program.command('policy').description('work with redirection policy files');
  policy
    .command('validate')
    .argument('<file>', 'a JSON or YAML policy file ("-" for standard input)')
    .description('check a policy and print every problem with its field path')
    .action(async (file: string, _opts, cmd: Command) => {
      done(await policyValidateCommand(file, io, globals(cmd).json === true));
    });

  return program;
}

function reportError(io: CliIo, error: SwitchyardError | Error, json: boolean): void {
  if (json) {
    printJson(io, {
      error:
        error instanceof SwitchyardErrorClass ? error.toJSON() : { name: error.name, message: error.message },
    });
  } else {
    const code = error instanceof SwitchyardErrorClass ? ` [${error.code}]` : '';
    io.stderr(`switchyard: ${error.message}${code}\n`);
  }
}

/**
 * Runs the `switchyard` command line with `argv` (without the node and script paths) and returns
 * the exit code: {@link EXIT}.ok, .failure or .input. Never calls `process.exit`.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
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
      return error.exitCode === 0 ? EXIT.ok : EXIT.input;
    }
    if (error instanceof SwitchyardErrorClass) {
      reportError(io, error, json);
      return error.kind === 'input' ? EXIT.input : EXIT.failure;
    }
    reportError(io, error as Error, json);
    return EXIT.failure;
  }
}
