import type { Command } from 'commander';
import { versionCommand } from '../commands/version.js';
import { type CompletedProgram, completionScript, SHELLS } from '../completion.js';
import { EXIT } from '../exit-codes.js';
import { type CommandContext, envOption } from './context.js';

/** `version` and `completion`: what a user asks of any CLI before anything else. */
export function addAboutCommands(program: Command, { io, done, json }: CommandContext): void {
  program
    .command('version')
    .description(
      'print the versions of the CLI, every Switchyard package, Node, OpenSSL, the driver API and the running node agent',
    )
    .addOption(
      envOption(
        '--agent-config <file>',
        "the running agent's config, for its admin address (default: the agent's default config)",
        'SWITCHYARD_AGENT_CONFIG',
      ),
    )
    .action(async (o: { agentConfig?: string }, cmd: Command) =>
      done(await versionCommand(io, json(cmd), o.agentConfig)),
    );
  program
    .command('completion')
    .argument('<shell>', SHELLS.join(', '))
    .description(
      'print a shell completion script for switchyard (and switchyard-agent), e.g. source <(switchyard completion bash)',
    )
    .action(async (shell: string) => {
      // The agent is an optional peer: with it installed, `agent …` and switchyard-agent complete too.
      const agent = await import('@switchyard/agent').then(
        (m) => m.agentProgram(io),
        () => undefined,
      );
      const programs: CompletedProgram[] = [
        { name: 'switchyard', command: program, ...(agent ? { grafts: { agent } } : {}) },
        ...(agent ? [{ name: 'switchyard-agent', command: agent }] : []),
      ];
      io.stdout(completionScript(programs, shell));
      done(EXIT.ok);
    });
}
