import { resolve } from 'node:path';
import { DEFAULT_PORTS, type DriverRegistry, InputInvalidError, type SocketOps } from '@switchyard/core';
import { type CarrierRegistry, type IdentityResolver, identitiesFromFile } from '@switchyard/dataplane';
import { type AuthorizationPolicy, CertificateStore, parseAuthorizationPolicy } from '@switchyard/mesh';
import { MtlsSidecar, startAdminServer } from '@switchyard/mtls-proxy';
import { carrierFactory, chosenCarrierName } from '../carrier-choice.js';
import { EXIT } from '../exit-codes.js';
import { addressFlag, cidrFlags, portFlag, wholeNumber } from '../flag-values.js';
import type { CliIo } from '../io.js';
import { PROXY_DEFAULTS } from '../proxy-defaults.js';
import { type LifecycleLog, type ProxyPart, runUntilSignal } from '../proxy-lifecycle.js';
import { readDocument } from '../read-document.js';
import { defaultDriver, netnsTarget } from './redirect.js';

/** Flags of `switchyard proxy mtls`. */
export interface ProxyMtlsOptions {
  inboundPort?: string | boolean;
  outboundPort?: string | boolean;
  certDir: string;
  meshCidr: string[];
  authz?: string;
  outboundAuthz?: string;
  /** A JSON/YAML map of address → the SPIFFE IDs it must present. */
  identities?: string;
  plaintextSource: string[];
  plaintextPort: string[];
  passthrough?: boolean;
  driver?: string;
  netns?: string;
  bypassMark?: string;
  admin: boolean;
  adminPort: string;
  /** Flags whose value came from a `SWITCHYARD_*` variable, flag → variable (named in messages). */
  envNames?: Record<string, string>;
  adminHost: string;
  drainSeconds: string;
  maxConnections: string;
  accessLog?: boolean;
  /** The carrier's name in the carrier registry (default `mtls`). */
  carrier?: string;
  /** Alias of `carrier`: `js` (mtls) or `native` (mtls-native). */
  engine?: string;
}

/** The flags both proxies share, checked: everything a proxy needs before anything listens. */
export interface CommonProxySettings {
  admin: { port: number; host: string } | undefined;
  drainMs: number;
  meshCidrs: string[];
  plaintextSources: string[];
  driver: string;
  target: ReturnType<typeof netnsTarget> | undefined;
}

/** Checks the flags `proxy mtls` and `proxy hbone` share. @throws InputInvalidError naming the flag. */
export function commonProxySettings(
  o: Pick<
    ProxyMtlsOptions,
    | 'admin'
    | 'adminPort'
    | 'adminHost'
    | 'drainSeconds'
    | 'meshCidr'
    | 'plaintextSource'
    | 'driver'
    | 'netns'
    | 'envNames'
  >,
): CommonProxySettings {
  const named = (flag: string) => {
    const variable = o.envNames?.[flag];
    return variable ? `${variable} (${flag})` : flag;
  };
  return {
    admin: o.admin
      ? {
          port: wholeNumber(named('--admin-port'), o.adminPort, 1, 65535),
          host: addressFlag(named('--admin-host'), o.adminHost),
        }
      : undefined,
    drainMs: wholeNumber(named('--drain-seconds'), o.drainSeconds, 0, PROXY_DEFAULTS.maxDrainSeconds) * 1000,
    meshCidrs: cidrFlags('--mesh-cidr', o.meshCidr),
    plaintextSources: cidrFlags('--plaintext-source', o.plaintextSource),
    driver: o.driver ?? defaultDriver(),
    target: o.netns === undefined ? undefined : netnsTarget(o.netns),
  };
}

/** Reads an `--authz` / `--outbound-authz` file, if given. */
export async function authzFile(
  file: string | undefined,
  cwd: string,
): Promise<AuthorizationPolicy | undefined> {
  return file === undefined ? undefined : parseAuthorizationPolicy(await readDocument(file, cwd), file);
}

/** Reads `--identities`, if given: which SPIFFE IDs each destination must present. */
export async function identitiesFlag(
  file: string | undefined,
  cwd: string,
): Promise<IdentityResolver | undefined> {
  return file === undefined ? undefined : identitiesFromFile(resolve(cwd, file));
}

/** A JSON-lines lifecycle log on stderr for one component. */
export function componentLog(io: CliIo, component: string): LifecycleLog {
  return (line) => io.stderr(`${JSON.stringify({ time: new Date().toISOString(), component, ...line })}\n`);
}

/**
 * The admin server as a part that starts after the proxy and stops before it; with `--netns` it
 * listens inside that namespace, beside the workload it serves.
 */
export function adminPart(
  sidecar: Parameters<typeof startAdminServer>[0],
  admin: { port: number; host: string },
  inside?: { target: NonNullable<CommonProxySettings['target']>; socketOps: SocketOps },
): ProxyPart {
  let server: Awaited<ReturnType<typeof startAdminServer>> | undefined;
  return {
    name: 'admin server',
    start: async () => {
      server = await startAdminServer(sidecar, { ...admin, ...inside });
    },
    stop: async () => {
      await server?.close();
    },
  };
}

/** Refuses a flag for a direction the sidecar will not serve, instead of ignoring it. */
function refuseUnservedDirection(o: ProxyMtlsOptions, inbound: boolean, outbound: boolean): void {
  const given = [
    ['--authz', o.authz !== undefined, 'inbound'],
    ['--plaintext-source', o.plaintextSource.length > 0, 'inbound'],
    ['--plaintext-port', o.plaintextPort.length > 0, 'inbound'],
    ['--outbound-authz', o.outboundAuthz !== undefined, 'outbound'],
    ['--mesh-cidr', o.meshCidr.length > 0, 'outbound'],
    ['--passthrough', o.passthrough === true, 'outbound'],
  ] as const;
  for (const [flag, present, direction] of given) {
    if (present && !(direction === 'inbound' ? inbound : outbound))
      throw new InputInvalidError(
        `${flag} applies to ${direction} connections, which this sidecar does not serve; add --${direction}-port [PORT], or drop ${flag}`,
      );
  }
}

/**
 * `switchyard proxy mtls`: runs the sidecar until SIGTERM or SIGINT, then drains. With neither
 * port flag it serves both directions on the default ports, which are the ones
 * `switchyard redirect apply` captures into. Every flag is checked before anything listens,
 * and the carrier (`--carrier`, or its alias `--engine`) is loaded then too: a host that cannot run
 * it is told so at once.
 */
export async function proxyMtlsCommand(
  registry: DriverRegistry,
  o: ProxyMtlsOptions,
  io: CliIo,
  carriers: CarrierRegistry,
): Promise<number> {
  const both = o.inboundPort === undefined && o.outboundPort === undefined;
  const inboundPort = both
    ? DEFAULT_PORTS.inbound
    : portFlag('--inbound-port', o.inboundPort, DEFAULT_PORTS.inbound);
  const outboundPort = both
    ? DEFAULT_PORTS.outbound
    : portFlag('--outbound-port', o.outboundPort, DEFAULT_PORTS.outbound);
  refuseUnservedDirection(o, inboundPort !== undefined, outboundPort !== undefined);
  const common = commonProxySettings(o);
  const plaintextPorts = o.plaintextPort.map((p) => wholeNumber('--plaintext-port', p, 1, 65535));
  const maxConnections = wholeNumber('--max-connections', o.maxConnections, 1, 10_000_000);
  const bypassMark =
    o.bypassMark === undefined ? undefined : wholeNumber('--bypass-mark', o.bypassMark, 1, 0xffffffff);
  const inboundAuthz = await authzFile(o.authz, io.cwd);
  const outboundAuthz = await authzFile(o.outboundAuthz, io.cwd);
  const identities = await identitiesFlag(o.identities, io.cwd);
  const carrier = await carrierFactory(carriers, chosenCarrierName(o));
  const driver = await registry.create(common.driver);
  const certificates = await CertificateStore.open(o.certDir);
  const log = componentLog(io, 'mtls-proxy');
  certificates.on('error', (e) => log({ level: 'warn', msg: `certificate change not loaded: ${e.message}` }));

  const sidecar = new MtlsSidecar({
    socketOps: driver.socketOps,
    certificates,
    log,
    accessLog: o.accessLog === true,
    // The admin port is a proxy port: the data plane refuses to relay a peer to it.
    ...(common.admin ? { adminPort: common.admin.port } : {}),
    maxConnections,
    ...(carrier ? { carrier } : {}),
    ...(identities ? { identities } : {}),
    ...(common.target ? { target: common.target } : {}),
    ...(bypassMark !== undefined ? { bypassMark } : {}),
    ...(inboundPort !== undefined
      ? {
          inbound: {
            port: inboundPort,
            plaintextSources: common.plaintextSources,
            plaintextPorts,
            ...(inboundAuthz ? { authorization: inboundAuthz } : {}),
          },
        }
      : {}),
    ...(outboundPort !== undefined
      ? {
          outbound: {
            port: outboundPort,
            meshCidrs: common.meshCidrs,
            passthroughOutsideMesh: o.passthrough === true,
            ...(outboundAuthz ? { authorization: outboundAuthz } : {}),
          },
        }
      : {}),
  });
  const parts: ProxyPart[] = [
    { name: 'mtls sidecar', start: () => sidecar.start(), stop: (ms) => sidecar.drain(ms) },
    ...(common.admin
      ? [
          adminPart(
            sidecar,
            common.admin,
            common.target && { target: common.target, socketOps: driver.socketOps },
          ),
        ]
      : []),
  ];
  try {
    await runUntilSignal(parts, common.drainMs, log);
  } finally {
    certificates.close();
  }
  return EXIT.ok;
}
