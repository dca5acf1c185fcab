import { InputInvalidError } from '@switchyard/core';
import { DEV_CA_VALIDITY } from '@switchyard/mesh';
import { Command, CommanderError, Option } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { caInitCommand, caIssueCommand } from './commands/ca.js';
import { driversCommand } from './commands/drivers.js';
import { type HnsAddOptions, hnsAddCommand, hnsClearCommand, hnsListCommand } from './commands/hns.js';
import { hnsLookupCommand, lookupCommand } from './commands/lookup.js';
import { policyValidateCommand } from './commands/policy-validate.js';
import { type ProxyHboneOptions, proxyHboneCommand } from './commands/proxy-hbone.js';
import { type ProxyMtlsOptions, proxyMtlsCommand } from './commands/proxy-mtls.js';
import {
  type RedirectOptions,
  redirectApplyCommand,
  redirectListCommand,
  redirectRemoveCommand,
} from './commands/redirect.js';
import { registryWith } from './driver-modules.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';
import { reportError } from './report-error.js';

interface GlobalOptions {
  json?: boolean;
  driverModule: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Builds the `switchyard` command tree. Each action resolves to an exit code through `done`. */
function buildProgram(io: CliIo, done: (code: number) => void): Command {
  const program = new Command('switchyard')
    .description('Switchyard: transparent capture and mTLS for Linux and Windows workloads')
    .version(packageJson.version, '-v, --version', 'print the version')
    .addOption(new Option('--json', 'print machine-readable JSON'))
    .addOption(
      new Option(
        '--driver-module <package>',
        'load a third-party driver package, directory or file (repeatable)',
      )
        .argParser(collect)
        .default([]),
    )
    .exitOverride()
    // Usage mistakes are reported by run() like every other error (one line, or JSON under --json).
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => {} })
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 failure on the host or in a driver, 2 bad input (nothing was changed).\nDocs: docs/cli.md, docs/errors.md',
    );

  const globals = (cmd: Command) => cmd.optsWithGlobals() as GlobalOptions;
  /** The registry with every `--driver-module` loaded, and whether `--json` was given. */
  const registry = (cmd: Command) => registryWith(globals(cmd).driverModule, io.cwd);
  const json = (cmd: Command): boolean => globals(cmd).json === true;

  program
    .command('drivers')
    .description('list every driver, whether it can work on this host, and if not why and how to fix it')
    .action(async (_opts, cmd: Command) => {
      done(await driversCommand(await registry(cmd), io, json(cmd)));
    });

  const policy = program.command('policy').description('work with redirection policy files');
  policy
    .command('validate')
    .argument('<file>', 'a JSON or YAML policy file ("-" for standard input)')
    .description('check a policy and print every problem with its field path')
    .action(async (file: string, _opts, cmd: Command) => {
      done(await policyValidateCommand(file, io, json(cmd)));
    });

  const redirect = program
    .command('redirect')
    .description("capture a network namespace's TCP into local proxy ports (Linux: the tproxy driver)");
  const targetOptions = (cmd: Command) =>
    cmd
      .option(
        '--netns <name|path|pid>',
        'the network namespace: a name from "ip netns", a path, or a process id',
      )
      .option('--container <id>', "a container's or pod's network, found through CRI (id or unique prefix)")
      .option(
        '--runtime-endpoint <endpoint>',
        'CRI endpoint for --container (default: containerd, then CRI-O)',
      )
      .option('--driver <name>', 'capture driver (default: tproxy on Linux, hns on Windows)');
  const policyOptions = (cmd: Command) =>
    targetOptions(cmd)
      .option('--policy <file>', 'the policy as a JSON or YAML file (instead of the flags below)')
      .option('--id <id>', 'policy id (default "default")')
      .option('--inbound-port [port]', 'capture inbound TCP into this port (default 15006)')
      .option('--outbound-port [port]', 'capture outbound TCP into this port (default 15001)')
      .option(
        '--exclude-port <port>',
        'never capture this port or range, either direction (repeatable)',
        collect,
        [],
      )
      .option('--exclude-cidr <cidr>', 'never capture outbound TCP to this CIDR (repeatable)', collect, [])
      .option('--bypass-mark <mark>', "socket mark of the proxy's own traffic (default 0x539)")
      .option('--bypass-uid <uid>', 'never capture traffic of this user id')
      .option('--bypass-gid <gid>', 'never capture traffic of this group id')
      .option('--ipv4', 'capture IPv4 (default: both families)')
      .option('--ipv6', 'capture IPv6 (default: both families)');
  for (const [name, dryRun, about] of [
    ['plan', true, 'print what apply would write; change nothing'],
    ['apply', false, 'apply the policy (idempotent, atomic) and print what was written'],
  ] as const) {
    policyOptions(redirect.command(name).description(about)).action(async (_o, cmd: Command) => {
      done(
        await redirectApplyCommand(await registry(cmd), cmd.opts() as RedirectOptions, io, json(cmd), dryRun),
      );
    });
  }
  targetOptions(
    redirect.command('list').description("list Switchyard's policies on the namespace, read from the kernel"),
  ).action(async (_o, cmd: Command) => {
    done(await redirectListCommand(await registry(cmd), cmd.opts() as RedirectOptions, io, json(cmd)));
  });
  targetOptions(
    redirect.command('remove').description("remove Switchyard's policies (all, or --id) and say how many"),
  )
    .option('--id <id>', 'remove only this policy')
    .action(async (_o, cmd: Command) => {
      done(await redirectRemoveCommand(await registry(cmd), cmd.opts() as RedirectOptions, io, json(cmd)));
    });

  const hns = program
    .command('hns')
    .description('Windows: HNS L4WFPPROXY policies, with hcnproxyctl-compatible verbs');
  const hnsConnection = (cmd: Command) =>
    cmd
      .addOption(new Option('--hcn-library <path>', 'a computenetwork-compatible library (tests)').hideHelp())
      .addOption(new Option('--state-dir <dir>', 'where policy ids are recorded').hideHelp());
  hnsConnection(
    hns
      .command('add')
      .argument('<endpoint>', 'HNS endpoint GUID')
      .description('add an L4WFPPROXY policy to the endpoint')
      .option('--port <port>', 'outbound proxy port (as hcnproxyctl)')
      .option('--inbound-port <port>', 'inbound proxy port')
      .option('--outbound-port <port>', 'outbound proxy port (same as --port)')
      .option(
        '--usersid <sid>',
        'the proxy\'s user SID, prefix-matched, or "system" for LocalSystem (S-1-5-18)',
      )
      .option('--localaddr <address>', 'local address filter (not supported yet)')
      .option('--remoteaddr <addresses>', 'redirect only traffic to these addresses (comma-separated)')
      .option('--localports <ports>', 'redirect only inbound traffic to these local ports (comma-separated)')
      .option(
        '--remoteports <ports>',
        'redirect only outbound traffic to these remote ports (comma-separated)',
      )
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
      .option('--id <id>', 'Switchyard policy id (default "default")')
      .option('--dry-run', 'print the exact HcnModifyEndpoint request and call nothing'),
  ).action(async (endpoint: string, o: HnsAddOptions, cmd: Command) => {
    done(await hnsAddCommand(await registry(cmd), endpoint, o, io, json(cmd)));
  });
  hnsConnection(
    hns
      .command('list')
      .argument('<endpoint>', 'HNS endpoint GUID')
      .description('list the L4WFPPROXY policies on the endpoint'),
  ).action(async (endpoint: string, o, cmd: Command) => {
    done(await hnsListCommand(await registry(cmd), endpoint, o, io, json(cmd)));
  });
  hnsConnection(
    hns
      .command('clear')
      .argument('<endpoint>', 'HNS endpoint GUID')
      .description('remove every L4WFPPROXY policy from the endpoint')
      .option('--dry-run', 'print the HcnModifyEndpoint request and change nothing'),
  ).action(async (endpoint: string, o, cmd: Command) => {
    done(await hnsClearCommand(await registry(cmd), endpoint, o, io, json(cmd)));
  });
  hnsConnection(
    hns
      .command('lookup')
      .argument('<containerId>', 'container id (or unique prefix)')
      .description("print the HNS endpoint id(s) of a container's pod, through CRI (hcnproxyctl's lookup)")
      .option('--runtime-endpoint <endpoint>', "CRI endpoint (default: containerd's named pipe)"),
  ).action(async (containerId: string, o, cmd: Command) =>
    done(await hnsLookupCommand(containerId, o, io, json(cmd))),
  );

  program
    .command('lookup')
    .argument('<id>', 'container or pod id, or a unique prefix of one')
    .description(
      'the pod a container or pod id belongs to, its network namespace (Linux) or HNS endpoints (Windows), and its IPs',
    )
    .option('--runtime-endpoint <endpoint>', 'CRI endpoint (default: containerd, then CRI-O)')
    .addOption(new Option('--hcn-library <path>', 'a computenetwork-compatible library (tests)').hideHelp())
    .action(async (id: string, o, cmd: Command) => done(await lookupCommand(id, o, io, json(cmd))));

  const ca = program
    .command('ca')
    .description('a development certificate authority for SPIFFE workload identities');
  ca.command('init')
    .description('create a development CA (ECDSA P-256) for a trust domain')
    .requiredOption('--dir <dir>', 'where to write ca-cert.pem and ca-key.pem (0600)')
    .requiredOption('--trust-domain <domain>', 'the trust domain, e.g. cluster.local')
    .option('--days <days>', `validity in whole days (default ${DEV_CA_VALIDITY.caDays})`)
    .option('--force', 'replace a CA already in --dir: every certificate it issued stops verifying')
    .action(async (o, cmd: Command) => done(await caInitCommand(o, io, json(cmd))));
  ca.command('issue')
    .description('issue a workload certificate: spiffe://DOMAIN/ns/NAMESPACE/sa/SERVICE_ACCOUNT')
    .requiredOption('--dir <dir>', 'the CA directory from "ca init"')
    .requiredOption('--namespace <ns>', 'the workload namespace')
    .requiredOption('--service-account <sa>', 'the workload service account')
    .requiredOption(
      '--out <dir>',
      'where to write cert-chain.pem, key.pem (0600) and root-cert.pem: what --cert-dir reads',
    )
    .option(
      '--hours <hours>',
      `validity in whole hours, at most until the CA expires (default ${DEV_CA_VALIDITY.certificateHours})`,
    )
    .action(async (o, cmd: Command) => done(await caIssueCommand(o, io, json(cmd))));

  const proxy = program.command('proxy').description('run a data-plane proxy');
  proxy
    .command('mtls')
    .description(
      'the transparent mTLS sidecar: captured TCP out as mTLS, mTLS in as plain TCP (runs until SIGTERM)',
    )
    .option(
      '--inbound-port [port]',
      'serve inbound on this port (default 15006; with neither port flag, both directions)',
    )
    .option('--outbound-port [port]', 'serve outbound on this port (default 15001)')
    .requiredOption(
      '--cert-dir <dir>',
      'certificate directory (cert-chain.pem, key.pem, root-cert.pem); reloaded when it changes',
    )
    .option('--mesh-cidr <cidr>', 'destinations that get mTLS (repeatable)', collect, [])
    .option('--authz <file>', 'inbound allow-list (default: same trust domain and namespace)')
    .option('--outbound-authz <file>', 'server identities accepted outbound (default: same trust domain)')
    .option(
      '--plaintext-source <cidr>',
      'sources allowed in plain TCP, e.g. the kubelet (repeatable)',
      collect,
      [],
    )
    .option('--plaintext-port <port>', 'local ports that accept plain TCP (repeatable)', collect, [])
    .option('--passthrough', 'let connections to destinations outside the mesh through in plain TCP')
    .option('--driver <name>', 'capture driver whose socket operations to use (default: tproxy on Linux)')
    .option(
      '--netns <name|path|pid>',
      "open the sidecar's sockets in this network namespace (node-level proxy)",
    )
    .option(
      '--bypass-mark <mark>',
      "socket mark of the sidecar's own dials (default 0x539, as redirect uses)",
    )
    .option('--admin-port <port>', 'port of /metrics, /ready, /healthz', '15020')
    .option('--admin-host <address>', 'address of the admin endpoints', '0.0.0.0')
    .option('--no-admin', 'do not serve the admin endpoints')
    .option('--drain-seconds <s>', 'on SIGTERM, how long open connections may finish', '30')
    .option('--max-connections <n>', 'most open connections per direction', '10000')
    .option('--access-log', 'log one JSON line per connection (peer identity, destination, bytes)')
    .action(async (o: ProxyMtlsOptions, cmd: Command) => {
      done(await proxyMtlsCommand(await registry(cmd), o, io));
    });

  proxy
    .command('hbone')
    .description(
      "the HBONE sidecar: captured TCP out as HTTP/2 CONNECT over pooled mTLS to the peer's 15008; 15008 in to the app (runs until SIGTERM)",
    )
    .option('--outbound-port [port]', 'captured outbound connections arrive here (default 15001)')
    .option(
      '--inbound-port [port]',
      'captured plain inbound arrives here and is refused unless allowed (default 15006)',
    )
    .option('--hbone-port <port>', 'the HBONE listener; exclude it from inbound capture', '15008')
    .option('--sni-gateway [port]', 'also run the SNI-routing gateway (default port 15443)')
    .option(
      '--sni-route <name=dest[@peer]>',
      'where the gateway sends a server name, e.g. api.web=10.0.0.7:8443 (repeatable)',
      collect,
      [],
    )
    .option(
      '--reverse-gateway <ip:port>',
      'hold a reverse tunnel (H2R) to this gateway, so it can reach us behind NAT',
    )
    .requiredOption('--cert-dir <dir>', 'certificate directory (cert-chain.pem, key.pem, root-cert.pem)')
    .option('--mesh-cidr <cidr>', 'destinations reached through HBONE (repeatable)', collect, [])
    .option('--authz <file>', 'inbound allow-list (default: same trust domain and namespace)')
    .option('--outbound-authz <file>', 'server identities accepted outbound (default: same trust domain)')
    .option(
      '--plaintext-source <cidr>',
      'sources allowed in plain TCP, e.g. the kubelet (repeatable)',
      collect,
      [],
    )
    .option('--passthrough', 'let connections to destinations outside the mesh through in plain TCP')
    .option('--driver <name>', 'capture driver whose socket operations to use (default: tproxy on Linux)')
    .option('--netns <name|path|pid>', "open the sidecar's sockets in this network namespace")
    .option('--admin-port <port>', 'port of /metrics, /ready, /healthz', '15020')
    .option('--admin-host <address>', 'address of the admin endpoints', '0.0.0.0')
    .option('--no-admin', 'do not serve the admin endpoints')
    .option('--drain-seconds <s>', 'on SIGTERM, how long open tunnels may finish', '30')
    .option('--access-log', 'log one JSON line per tunnel (peer identity, destination)')
    .action(async (o: ProxyHboneOptions, cmd: Command) => {
      done(await proxyHboneCommand(await registry(cmd), o, io));
    });

  return program;
}

/**
 * Runs the `switchyard` command line with `argv` (without the node and script paths) and returns
 * the exit code: {@link EXIT}.ok, .failure or .input. Never calls `process.exit`.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  const json = argv.includes('--json');
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version arrive as "errors" through exitOverride; usage mistakes are bad input.
      if (error.exitCode === 0) return EXIT.ok;
      return reportError(io, usageError(error), json);
    }
    return reportError(io, error, json);
  }
}

/** A commander usage mistake as a Switchyard input error, its "error: " prefix dropped. */
function usageError(error: CommanderError): InputInvalidError {
  const message = error.message.replace(/^error: /, '');
  return new InputInvalidError(`${message} (run with --help for usage)`, { cause: error });
}
