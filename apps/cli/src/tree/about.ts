import type { Command } from 'commander';
import { versionCommand } from '../commands/version.js';
import { completionScript, SHELLS } from '../completion.js';
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
    .description('print a shell completion script, e.g. source <(switchyard completion bash)')
    .action((shell: string) => {
      io.stdout(completionScript(program, shell));
      done(EXIT.ok);
    });
}
