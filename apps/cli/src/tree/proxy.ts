import { DEFAULT_BYPASS_MARK, DEFAULT_PORTS } from '@switchyard/core';
import { HBONE_PORT, SNI_GATEWAY_PORT } from '@switchyard/hbone';
import type { Command } from 'commander';
import { DEFAULT_CARRIER, DEFAULT_HBONE_CARRIER, ENGINES } from '../carrier-choice.js';
import { type ProxyHboneOptions, proxyHboneCommand } from '../commands/proxy-hbone.js';
import { type ProxyMtlsOptions, proxyMtlsCommand } from '../commands/proxy-mtls.js';
import { PROXY_DEFAULTS } from '../proxy-defaults.js';
import { driverOption } from './capture.js';
import { type CommandContext, collect, envOption, envSourced, once } from './context.js';

/** The flags `proxy mtls` and `proxy hbone` share, with one default each. */
function sharedProxyOptions(cmd: Command, what: 'connection' | 'tunnel'): Command {
  return cmd
    .addOption(
      envOption(
        '--cert-dir <dir>',
        'certificate directory (cert-chain.pem, key.pem, root-cert.pem); reloaded when it changes',
        'SWITCHYARD_CERT_DIR',
      ).makeOptionMandatory(),
    )
    .option('--authz <file>', 'inbound allow-list (default: same trust domain and namespace)')
    .option('--outbound-authz <file>', 'server identities accepted outbound (default: same trust domain)')
    .option(
      '--identities <file>',
      'which SPIFFE IDs each destination address must present (JSON/YAML map); without it any identity of the trust domain is accepted',
    )
    .option(
      '--plaintext-source <cidr>',
      'sources allowed in plain TCP, e.g. the kubelet (repeatable)',
      collect,
      [],
    )
    .option('--passthrough', 'let connections to destinations outside the mesh through in plain TCP')
    .addOption(driverOption('capture driver whose socket operations to use (default: tproxy on Linux)'))
    .option(
      '--netns <name|path|pid>',
      "open the sidecar's sockets in this network namespace (node-level proxy)",
      once,
    )
    .addOption(
      envOption('--admin-port <port>', 'port of /metrics, /ready, /healthz', 'SWITCHYARD_ADMIN_PORT').default(
        PROXY_DEFAULTS.adminPort,
      ),
    )
    .addOption(
      envOption('--admin-host <address>', 'address of the admin endpoints', 'SWITCHYARD_ADMIN_HOST').default(
        PROXY_DEFAULTS.adminHost,
      ),
    )
    .option('--no-admin', 'do not serve the admin endpoints')
    .addOption(
      envOption(
        '--drain-seconds <s>',
        `on SIGTERM, how long open ${what}s may finish (0-${PROXY_DEFAULTS.maxDrainSeconds})`,
        'SWITCHYARD_DRAIN_SECONDS',
      ).default(PROXY_DEFAULTS.drainSeconds),
    )
    .option('--access-log', `log one JSON line per ${what} (peer identity, destination)`);
}

/** `proxy mtls|hbone`: the data-plane proxies, running until SIGTERM. */
export function addProxyCommands(program: Command, { io, done, registry, carriers }: CommandContext): void {
  const proxy = program.command('proxy').description('run a data-plane proxy');
  sharedProxyOptions(
    proxy
      .command('mtls')
      .description(
        'the transparent mTLS sidecar: captured TCP out as mTLS, mTLS in as plain TCP (runs until SIGTERM)',
      )
      .option(
        '--inbound-port [port]',
        `serve inbound on this port (default ${DEFAULT_PORTS.inbound}; with neither port flag, both directions)`,
      )
      .option('--outbound-port [port]', `serve outbound on this port (default ${DEFAULT_PORTS.outbound})`)
      .option('--mesh-cidr <cidr>', 'destinations that get mTLS (repeatable)', collect, [])
      .option('--plaintext-port <port>', 'local ports that accept plain TCP (repeatable)', collect, [])
      .option(
        '--bypass-mark <mark>',
        `socket mark of the sidecar's own dials (default 0x${DEFAULT_BYPASS_MARK.toString(16)}, as redirect uses)`,
      )
      .option('--max-connections <n>', 'most open connections per direction', PROXY_DEFAULTS.maxConnections)
      .option(
        '--carrier <name>',
        `the carrier, by its name in the carrier registry: mtls, mtls-native, or one a --carrier-module loads (default ${DEFAULT_CARRIER})`,
      )
      .option(
        '--engine <engine>',
        `alias of --carrier: ${ENGINES.join(' (mtls) or ')} (mtls-native: the relay engine on its own threads, Linux)`,
      ),
    'connection',
  ).action(async (o: ProxyMtlsOptions, cmd: Command) =>
    done(
      await proxyMtlsCommand(
        await registry(cmd),
        { ...o, envNames: envSourced(cmd) },
        io,
        await carriers(cmd),
      ),
    ),
  );

  sharedProxyOptions(
    proxy
      .command('hbone')
      .description(
        "the HBONE sidecar: captured TCP out as HTTP/2 CONNECT over pooled mTLS to the peer's 15008; 15008 in to the app (runs until SIGTERM)",
      )
      .option(
        '--outbound-port [port]',
        `captured outbound connections arrive here (default ${DEFAULT_PORTS.outbound})`,
      )
      .option(
        '--inbound-port [port]',
        `captured plain inbound arrives here and is refused unless allowed (default ${DEFAULT_PORTS.inbound})`,
      )
      .option(
        '--hbone-port <port>',
        'the HBONE listener; exclude it from inbound capture',
        String(HBONE_PORT),
      )
      .option('--sni-gateway [port]', `also run the SNI-routing gateway (default port ${SNI_GATEWAY_PORT})`)
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
      .option('--mesh-cidr <cidr>', 'destinations reached through HBONE (repeatable)', collect, [])
      .option(
        '--carrier <name>',
        `the HBONE carrier, by its name in the carrier registry: hbone, hbone-native (TLS, HTTP/2 and bytes on the native relay engine, Linux; no --sni-gateway or --reverse-gateway), or one a --carrier-module loads (default ${DEFAULT_HBONE_CARRIER})`,
      ),
    'tunnel',
  ).action(async (o: ProxyHboneOptions, cmd: Command) =>
    done(
      await proxyHboneCommand(
        await registry(cmd),
        { ...o, envNames: envSourced(cmd) },
        io,
        await carriers(cmd),
      ),
    ),
  );
}
