import { UnsupportedPlatformError } from '@switchyard/core';
import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { reportError } from '../report-error.js';
import type { CommandContext } from './context.js';

/**
 * Runs the node agent's own command line (`switchyard-agent`), loaded only when asked for: the
 * agent is an optional peer of the CLI (it brings a Kubernetes client a CLI user may not want).
 */
export async function runAgent(args: readonly string[], io: CliIo): Promise<number> {
  let agent: typeof import('@switchyard/agent');
  try {
    agent = await import('@switchyard/agent');
  } catch (cause) {
    return reportError(
      io,
      new UnsupportedPlatformError(
        'the node agent is not installed beside the CLI; install it with "npm install @switchyard/agent" (or run switchyard-agent)',
        { cause },
      ),
      args.includes('--json'),
    );
  }
  return agent.run(args, { stdout: io.stdout, stderr: io.stderr, env: io.env });
}

/** `switchyard agent …`: the node agent, the same as `switchyard-agent …`. */
export function addAgentCommand(program: Command, { io, done, json }: CommandContext): void {
  program
    .command('agent')
    .description(
      'the node agent, as switchyard-agent: agent run|status|check|validate … (agent --help for its flags)',
    )
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    // `switchyard --json agent status`: the global flag goes on to the agent's command.
    .action(async (_o: unknown, cmd: Command) =>
      done(
        await runAgent(json(cmd) && !cmd.args.includes('--json') ? [...cmd.args, '--json'] : cmd.args, io),
      ),
    );
}
