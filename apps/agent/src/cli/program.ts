import { SwitchyardError } from '@switchyard/core';
import { Command, CommanderError } from 'commander';
import { AGENT_DEFAULTS } from '../config/defaults.js';
import { loadConfig } from '../config/validate-config.js';
import type { AgentIo } from './agent-io.js';
import { checkCommand } from './check-command.js';
import { EXIT } from './exit-codes.js';
import { explainCommand } from './explain-command.js';
import { INSTALL_CNI_HELP, installCniCommand } from './install-cni-command.js';
import { runCommand } from './run-command.js';
import { statusCommand } from './status-command.js';
import { validateCommand } from './validate-command.js';

/**
 * `switchyard-agent [run] [--config FILE] [--uninstall]`, `status [--json] [--service NS/NAME]`,
 * `explain FROM TO:PORT [--json]`, `check [--json]`,
 * `validate`. Returns the exit code; errors are printed as one sentence, never a stack trace.
 */
export async function run(argv: readonly string[], io: AgentIo): Promise<number> {
  let code: number = EXIT.ok;
  const configPath = (o: { config?: string }) =>
    o.config ?? io.env.SWITCHYARD_AGENT_CONFIG ?? AGENT_DEFAULTS.configPath;
  const program = new Command('switchyard-agent')
    .description(
      "The Switchyard node agent: captures the node's workloads and carries their traffic over mTLS or HBONE",
    )
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  const withConfig = (c: Command) =>
    c.option(
      '-c, --config <file>',
      `the agent config (default $SWITCHYARD_AGENT_CONFIG or ${AGENT_DEFAULTS.configPath})`,
    );
  withConfig(
    program.command('run', { isDefault: true }).description('run the agent until SIGTERM (the default)'),
  )
    .option('--uninstall', 'remove every capture rule and certificate the agent put on this node, then exit')
    .action(async (o) => {
      code = await runCommand(await loadConfig(configPath(o)), o, io);
    });
  withConfig(
    program.command('status').description('what is captured where, and why not (asks the running agent)'),
  )
    .option('--json', 'print JSON')
    .option('--service <namespace/name>', 'a Service instead: its endpoints and the identity pinned for each')
    .action(async (o) => {
      code = await statusCommand(await loadConfig(configPath(o)), o, io);
    });
  withConfig(
    program
      .command('explain')
      .argument('<from>', 'NAMESPACE/POD, or an address (plain TCP when the agent knows no identity for it)')
      .argument('<to>', 'NAMESPACE/POD:PORT or ADDRESS:PORT of a workload this agent serves')
      .description('which policy allows or denies a connection, and why (asks the running agent)'),
  )
    .option('--json', 'print JSON')
    .action(async (from: string, to: string, o) => {
      code = await explainCommand(await loadConfig(configPath(o)), from, to, o, io);
    });
  withConfig(
    program
      .command('check')
      .description('preflight: can the agent work on this node? each problem with its fix'),
  )
    .option('--json', 'print JSON')
    .action(async (o) => {
      code = await checkCommand(configPath(o), o, io);
    });
  withConfig(
    program
      .command('validate')
      .description('check the config (and the workload file) without starting anything'),
  ).action(async (o) => {
    code = await validateCommand(configPath(o), io);
  });
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
    .action(async (o) => {
      code = await installCniCommand(o, io);
    });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.input;
    const known = error instanceof SwitchyardError;
    io.stderr(`switchyard-agent: ${known ? error.message : String((error as Error).message ?? error)}\n`);
    return known && error.kind === 'input' ? EXIT.input : EXIT.failure;
  }
}
