import type { Command } from 'commander';
import { DEFAULT_AGENT_ADMIN, metadataProxyStatusCommand } from '../commands/metadata-proxy-status.js';
import type { CommandContext } from './context.js';

/** `metadata-proxy status`: what the running agent does with containers' cloud metadata requests. */
export function addMetadataProxyCommands(program: Command, { io, done, json }: CommandContext): void {
  const group = program
    .command('metadata-proxy')
    .description("cloud metadata proxying for Docker containers (the agent's metadataProxy)");
  group
    .command('status')
    .description(
      'the client containers, the proxy container and what is applied where (asks the running agent)',
    )
    .option('--admin <host:port>', "the agent's admin address", DEFAULT_AGENT_ADMIN)
    .action(async (o: { admin: string }, cmd: Command) =>
      done(await metadataProxyStatusCommand(io, o.admin, json(cmd))),
    );
}
