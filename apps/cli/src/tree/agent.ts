import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import type { CommandContext } from './context.js';

/** Runs the node agent's own command line (`switchyard-agent`), loaded only when asked for. */
export async function runAgent(args: readonly string[], io: CliIo): Promise<number> {
  const { run } = await import('@switchyard/agent');
  return run(args, { stdout: io.stdout, stderr: io.stderr, env: io.env });
}

/** `switchyard agent …`: the node agent, the same as `switchyard-agent …`. */
export function addAgentCommand(program: Command, { io, done }: CommandContext): void {
  program
    .command('agent')
    .description(
      'the node agent, as switchyard-agent: agent run|status|check|validate … (agent --help for its flags)',
    )
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (_o: unknown, cmd: Command) => done(await runAgent(cmd.args, io)));
}
