import type { Command } from 'commander';
import { versionCommand } from '../commands/version.js';
import { type CompletedProgram, completionScript, SHELLS } from '../completion.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from './context.js';

/** `version` and `completion`: what a user asks of any CLI before anything else. */
export function addAboutCommands(program: Command, { io, done, json }: CommandContext): void {
  program
    .command('version')
    .description('print the versions of the CLI, every Switchyard package, Node, OpenSSL and the driver API')
    .action((_o, cmd: Command) => done(versionCommand(io, json(cmd))));
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
