import { InputInvalidError, InternalError, isSwitchyardError, type SwitchyardError } from '@switchyard/core';
import { Command, CommanderError, Option } from 'commander';
import { AGENT_DEFAULTS } from '../config/defaults.js';
import { loadConfig } from '../config/validate-config.js';
import { AGENT_VERSION } from '../lifecycle/agent-version.js';
import type { AgentIo } from './agent-io.js';
import { checkCommand } from './check-command.js';
import { configCommand } from './config-command.js';
import { EXIT } from './exit-codes.js';
import { explainCommand } from './explain-command.js';
import { INSTALL_CNI_HELP, installCniCommand } from './install-cni-command.js';
import { logLevelCommand } from './log-level-command.js';
import { planCommand } from './plan-command.js';
import { runCommand } from './run-command.js';
import { statusCommand } from './status-command.js';
import { validateCommand } from './validate-command.js';
import { versionCommand } from './version-command.js';

/**
 * The `switchyard-agent` command tree: `[run] [--uninstall [--dry-run]]`, `status`, `explain`,
 * `check`, `validate`, `version`, `log-level`, `install-cni`. Actions set the exit code through `done`.
 */
export function agentProgram(io: AgentIo, done: (code: number) => void = () => undefined): Command {
  const configPath = (o: { config?: string }) =>
    o.config ?? io.env.SWITCHYARD_AGENT_CONFIG ?? AGENT_DEFAULTS.configPath;
  const program = new Command('switchyard-agent')
    .description(
      "The Switchyard node agent: captures the node's workloads and carries their traffic over mTLS or HBONE",
    )
    .version(`switchyard-agent ${AGENT_VERSION}`, '-V, --version', 'print the version and exit')
    .exitOverride()
    // Usage mistakes are reported by run() like every other error (one line, or JSON under --json).
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => {} })
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 failure on the host (or not ready), 2 bad input (nothing was changed).\nDocs: docs/agent.md',
    );
  const withConfig = (c: Command) =>
    c.option(
      '-c, --config <file>',
      `the agent config (default $SWITCHYARD_AGENT_CONFIG or ${AGENT_DEFAULTS.configPath})`,
    );
  const json = () => new Option('--json', 'print JSON');
  withConfig(
    program.command('run', { isDefault: true }).description('run the agent until SIGTERM (the default)'),
  )
    .option('--uninstall', 'remove every capture rule and certificate the agent put on this node, then exit')
    .option('--dry-run', 'with --uninstall: say what it would remove, and change nothing')
    .option('--json', 'with --uninstall: print JSON (a running agent logs JSON lines already)')
    .action(async (o) => {
      if (o.dryRun && !o.uninstall)
        throw new InputInvalidError(
          '--dry-run goes with --uninstall (use "plan" for what a run would apply)',
        );
      done(await runCommand(await loadConfig(configPath(o)), o, io));
    });
  withConfig(
    program.command('status').description('what is captured where, and why not (asks the running agent)'),
  )
    .addOption(json())
    .option('--service <namespace/name>', 'a Service instead: its endpoints and the identity pinned for each')
    .action(async (o) => done(await statusCommand(await loadConfig(configPath(o)), o, io)));
  withConfig(
    program
      .command('explain')
      .argument(
        '<from>',
        'NAMESPACE/POD, an address (plain TCP when the agent knows no identity for it), or a spiffe:// ID',
      )
      .argument('<to>', 'NAMESPACE/POD:PORT or ADDRESS:PORT of a workload this agent serves')
      .description('which policy allows or denies a connection, and why (asks the running agent)'),
  )
    .addOption(json())
    .action(async (from: string, to: string, o) =>
      done(await explainCommand(await loadConfig(configPath(o)), from, to, o, io)),
    );
  withConfig(
    program
      .command('check')
      .description('preflight: can the agent work on this node? each problem with its fix (changes nothing)'),
  )
    .addOption(json())
    .action(async (o) => done(await checkCommand(configPath(o), o, io)));
  withConfig(
    program
      .command('validate')
      .description('check the config (and the workload file) without starting anything'),
  )
    .addOption(json())
    .action(async (o) => done(await validateCommand(configPath(o), io, o)));
  withConfig(
    program.command('version').description("this agent's version, and the running agent's when one answers"),
  )
    .addOption(json())
    .action(async (o) => done(await versionCommand(configPath(o), o, io)));
  withConfig(
    program
      .command('plan')
      .description("what the agent would apply on this node (each workload's rules), applying nothing"),
  )
    .addOption(json())
    .action(async (o) => done(await planCommand(await loadConfig(configPath(o)), o, io)));
  withConfig(
    program
      .command('config')
      .argument('<workload>', 'NAMESPACE/NAME, as status lists it')
      .description(
        'what one workload runs with: certificate, trust bundle, listeners, policy, pinned identities, recent denials',
      ),
  )
    .addOption(json())
    .option('-o, --output <format>', 'text (default), json or yaml')
    .action(async (workload: string, o) =>
      done(await configCommand(await loadConfig(configPath(o)), workload, o, io)),
    );
  withConfig(
    program
      .command('log-level')
      .argument('[level]', 'debug, info, warn or error; without it, print the level in force')
      .description("read or change the running agent's log level (until it restarts)"),
  )
    .addOption(json())
    .action(async (level: string | undefined, o) =>
      done(await logLevelCommand(await loadConfig(configPath(o)), level, o, io)),
    );
  program
    .command('install-cni')
    .description(
      `chain switchyard-cni into this node's CNI configuration (the DaemonSet's install-cni container); ${INSTALL_CNI_HELP}`,
    )
    .option('--binary <path>', 'the built switchyard-cni to copy onto the node')
    .option('--cni-bin-dir <dir>', "the host's CNI binary directory")
    .option('--cni-conf-dir <dir>', "the host's CNI configuration directory")
    .option('--agent-socket <path>', "the agent's socket as the host sees it")
    .option('--exclude-namespaces <list>', 'comma-separated namespaces whose pods never wait for the agent')
    .option('--agent-timeout-seconds <n>', "how long ADD waits for the agent (default the plugin's, 20)")
    .option('--watch', 'keep it installed (put it back after rewrites) until SIGTERM, then remove it')
    .option(
      '--keep-on-stop',
      'with --watch: leave it installed on SIGTERM (an upgrade: new pods wait for the next agent)',
    )
    .option('--uninstall', 'remove the entry and the binary, then exit')
    .action(async (o) => done(await installCniCommand(o, io)));
  return program;
}

/** Returns the exit code; errors are printed as one line (one JSON object under `--json`), never a stack trace. */
export async function run(argv: readonly string[], io: AgentIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = agentProgram(io, (c) => {
    code = c;
  });
  const json =
    argv.includes('--json') || argv.some((a, i) => /^(-o|--output)$/.test(a) && argv[i + 1] === 'json');
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version arrive as "errors" through exitOverride; usage mistakes are bad input.
      if (error.exitCode === 0) return EXIT.ok;
      return reportAgentError(io, usageError(error), json);
    }
    return reportAgentError(io, error, json);
  }
}

/**
 * Prints a failure: `{"error": {name, code, message}}` on stdout under `--json`, otherwise one
 * `switchyard-agent: MESSAGE [CODE]` line on stderr. Returns the exit code it calls for.
 */
export function reportAgentError(io: AgentIo, error: unknown, json: boolean): number {
  const e: SwitchyardError = isSwitchyardError(error)
    ? error
    : new InternalError(error instanceof Error ? error.message : String(error), { cause: error });
  if (json) io.stdout(`${JSON.stringify({ error: e.toJSON() }, null, 2)}\n`);
  else io.stderr(`switchyard-agent: ${e.message} [${e.code}]\n`);
  return e.kind === 'input' ? EXIT.input : EXIT.failure;
}

/** A commander usage mistake as an input error, its "error: " prefix dropped. */
function usageError(error: CommanderError): InputInvalidError {
  return new InputInvalidError(`${error.message.replace(/^error: /, '')} (run with --help for usage)`, {
    cause: error,
  });
}
