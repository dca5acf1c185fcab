import { DEFAULT_POLICY_ID } from '@switchyard/core';
import { type Command, Option } from 'commander';
import { type HnsAddOptions, hnsAddCommand, hnsClearCommand, hnsListCommand } from '../commands/hns.js';
import { hnsLookupCommand } from '../commands/lookup.js';
import { runtimeEndpointOption } from './capture.js';
import { type CommandContext, collect } from './context.js';

/** The flags every `hns` command takes to reach HNS; hidden: they exist for tests against the stand-in. */
const hnsConnection = (cmd: Command) =>
  cmd
    .addOption(new Option('--hcn-library <path>', 'a computenetwork-compatible library (tests)').hideHelp())
    .addOption(new Option('--state-dir <dir>', 'where policy ids are recorded').hideHelp());

const addOptions = (cmd: Command) =>
  cmd
    .option('--port <port>', 'outbound proxy port (as hcnproxyctl)')
    .option('--inbound-port <port>', 'inbound proxy port')
    .option('--outbound-port <port>', 'outbound proxy port (same as --port)')
    .option(
      '--usersid <sid>',
      'the proxy\'s user SID, prefix-matched, or "system" for LocalSystem (S-1-5-18)',
    )
    .option('--localaddr <address>', 'local address filter (not supported yet)')
    .option('--remoteaddr <addresses>', 'redirect only outbound traffic to these addresses (comma-separated)')
    .option('--localports <ports>', 'redirect only inbound traffic to these local ports (comma-separated)')
    .option('--remoteports <ports>', 'redirect only outbound traffic to these remote ports (comma-separated)')
    .option('--priority <n>', 'policy priority 0-65535, lower first')
    .option(
      '--exclude-port <port>',
      'never redirect this port or range, e.g. 8000-8003 (repeatable)',
      collect,
      [],
    )
    .option(
      '--exclude-ip <address>',
      'never redirect outbound traffic to this address (repeatable)',
      collect,
      [],
    )
    .option('--protocol <protocol>', 'tcp (the only protocol L4WFPPROXY redirects)')
    .option('--id <id>', `Switchyard policy id (default "${DEFAULT_POLICY_ID}")`)
    .option('--dry-run', 'print the exact HcnModifyEndpoint request and call nothing');

/** `hns add|list|clear|lookup`: hcnproxyctl's verbs for Windows HNS endpoints. */
export function addHnsCommands(program: Command, { io, done, registry, json }: CommandContext): void {
  const hns = program
    .command('hns')
    .description('Windows: HNS L4WFPPROXY policies, with hcnproxyctl-compatible verbs');
  hnsConnection(
    addOptions(
      hns
        .command('add')
        .argument('<endpoint>', 'HNS endpoint GUID')
        .description('add an L4WFPPROXY policy to the endpoint'),
    ),
  ).action(async (endpoint: string, o: HnsAddOptions, cmd: Command) =>
    done(await hnsAddCommand(await registry(cmd), endpoint, o, io, json(cmd))),
  );
  hnsConnection(
    hns
      .command('list')
      .argument('<endpoint>', 'HNS endpoint GUID')
      .description('list the L4WFPPROXY policies on the endpoint'),
  ).action(async (endpoint: string, o, cmd: Command) =>
    done(await hnsListCommand(await registry(cmd), endpoint, o, io, json(cmd))),
  );
  hnsConnection(
    hns
      .command('clear')
      .argument('<endpoint>', 'HNS endpoint GUID')
      .description('remove every L4WFPPROXY policy from the endpoint')
      .option('--dry-run', 'print the HcnModifyEndpoint request and change nothing'),
  ).action(async (endpoint: string, o, cmd: Command) =>
    done(await hnsClearCommand(await registry(cmd), endpoint, o, io, json(cmd))),
  );
  hnsConnection(
    hns
      .command('lookup')
      .argument('<containerId>', 'container id (or unique prefix)')
      .description("print the HNS endpoint id(s) of a container's pod, through CRI (hcnproxyctl's lookup)")
      .addOption(runtimeEndpointOption("CRI endpoint (default: containerd's named pipe)")),
  ).action(async (containerId: string, o, cmd: Command) =>
    done(await hnsLookupCommand(containerId, o, io, json(cmd))),
  );
}
