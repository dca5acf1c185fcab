import { DEFAULT_BYPASS_MARK, DEFAULT_POLICY_ID, DEFAULT_PORTS } from '@switchyard/core';
import type { Command } from 'commander';
import { Option } from 'commander';
import { driversCommand } from '../commands/drivers.js';
import { lookupCommand } from '../commands/lookup.js';
import { policyValidateCommand } from '../commands/policy-validate.js';
import {
  type RedirectOptions,
  redirectApplyCommand,
  redirectListCommand,
  redirectRemoveCommand,
} from '../commands/redirect.js';
import { type CommandContext, collect, envOption, once } from './context.js';

/** `--runtime-endpoint`, shared by every command that reaches CRI. */
export const runtimeEndpointOption = (about: string) =>
  envOption('--runtime-endpoint <endpoint>', about, 'SWITCHYARD_RUNTIME_ENDPOINT');

/** `--driver`, shared by redirect and the proxies. */
export const driverOption = (about: string) => envOption('--driver <name>', about, 'SWITCHYARD_DRIVER');

const targetOptions = (cmd: Command) =>
  cmd
    .option(
      '--netns <name|path|pid>',
      'the network namespace: a name from "ip netns", a path, or a process id',
      once,
    )
    .option('--container <id>', "a container's or pod's network, found through CRI (id or unique prefix)")
    .addOption(
      runtimeEndpointOption('CRI endpoint for --container (default: containerd, CRI-O, then cri-dockerd)'),
    )
    .addOption(driverOption('capture driver (default: tproxy on Linux, hns on Windows)'));

const policyOptions = (cmd: Command) =>
  targetOptions(cmd)
    .option('--policy <file>', 'the policy as a JSON or YAML file (instead of the flags below)')
    .option('--id <id>', `policy id (default "${DEFAULT_POLICY_ID}")`)
    .option('--inbound-port [port]', `capture inbound TCP into this port (default ${DEFAULT_PORTS.inbound})`)
    .option(
      '--outbound-port [port]',
      `capture outbound TCP into this port (default ${DEFAULT_PORTS.outbound})`,
    )
    .option(
      '--exclude-port <port>',
      'never capture this port or range, either direction (repeatable)',
      collect,
      [],
    )
    .option(
      '--exclude-cidr <cidr>',
      'never capture outbound TCP to this CIDR; needs --outbound-port (repeatable)',
      collect,
      [],
    )
    .option(
      '--bypass-mark <mark>',
      `socket mark of the proxy's own traffic (default 0x${DEFAULT_BYPASS_MARK.toString(16)})`,
    )
    .option('--bypass-uid <uid>', 'never capture traffic of this user id')
    .option('--bypass-gid <gid>', 'never capture traffic of this group id')
    .option('--ipv4', 'capture IPv4 (default: both families)')
    .option('--ipv6', 'capture IPv6 (default: both families)');

/**
 * The options of a `redirect` command. A CRI endpoint from SWITCHYARD_RUNTIME_ENDPOINT is a
 * standing setting, used only when a command names a `--container`; given as a flag without one,
 * it is refused (by `redirect`), never silently ignored.
 */
function redirectOptions(cmd: Command): RedirectOptions {
  const options = { ...cmd.opts() } as RedirectOptions;
  if (cmd.getOptionValueSource('runtimeEndpoint') === 'env' && options.container === undefined)
    delete options.runtimeEndpoint;
  return options;
}

/** `drivers`, `policy validate`, `redirect …` and `lookup`: finding and capturing workloads. */
export function addCaptureCommands(program: Command, { io, done, registry, json }: CommandContext): void {
  program
    .command('drivers')
    .description('list every driver, whether it can work on this host, and if not why and how to fix it')
    .action(async (_opts, cmd: Command) => done(await driversCommand(await registry(cmd), io, json(cmd))));

  program
    .command('policy')
    .description('work with redirection policy files')
    .command('validate')
    .argument('<file>', 'a JSON or YAML policy file ("-" for standard input)')
    .description('check a policy and print every problem with its field path')
    .action(async (file: string, _opts, cmd: Command) =>
      done(await policyValidateCommand(file, io, json(cmd))),
    );

  const redirect = program
    .command('redirect')
    .description("capture a network namespace's TCP into local proxy ports (Linux: the tproxy driver)");
  for (const [name, dryRun, about] of [
    ['plan', true, 'print what apply would write; change nothing'],
    ['apply', false, 'apply the policy (idempotent, atomic) and print what was written'],
  ] as const) {
    policyOptions(redirect.command(name).description(about)).action(async (_o, cmd: Command) =>
      done(await redirectApplyCommand(await registry(cmd), redirectOptions(cmd), io, json(cmd), dryRun)),
    );
  }
  targetOptions(
    redirect.command('list').description("list Switchyard's policies on the namespace, read from the kernel"),
  ).action(async (_o, cmd: Command) =>
    done(await redirectListCommand(await registry(cmd), redirectOptions(cmd), io, json(cmd))),
  );
  targetOptions(
    redirect.command('remove').description("remove Switchyard's policies (all, or --id) and say how many"),
  )
    .option('--id <id>', 'remove only this policy')
    .action(async (_o, cmd: Command) =>
      done(await redirectRemoveCommand(await registry(cmd), redirectOptions(cmd), io, json(cmd))),
    );

  program
    .command('lookup')
    .argument('<id>', 'container or pod id, or a unique prefix of one')
    .description(
      'the pod a container or pod id belongs to, its network namespace (Linux) or HNS endpoints (Windows), and its IPs',
    )
    .addOption(runtimeEndpointOption('CRI endpoint (default: containerd, CRI-O, then cri-dockerd)'))
    .addOption(new Option('--hcn-library <path>', 'a computenetwork-compatible library (tests)').hideHelp())
    .action(async (id: string, o, cmd: Command) => done(await lookupCommand(id, o, io, json(cmd))));
}
