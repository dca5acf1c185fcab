import { DEFAULT_PORTS, type DriverRegistry, InputInvalidError, parseCidr } from '@switchyard/core';
import { CertificateStore, parseAuthorizationPolicy } from '@switchyard/mesh';
import { MtlsSidecar, startAdminServer } from '@switchyard/mtls-proxy';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';
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
  plaintextSource: string[];
  plaintextPort: string[];
  passthrough?: boolean;
  driver?: string;
  netns?: string;
  bypassMark?: string;
  admin: boolean;
  adminPort: string;
  adminHost: string;
  drainSeconds: string;
  maxConnections: string;
  accessLog?: boolean;
}

/** A whole number flag (decimal or 0x hex) within bounds. @throws InputInvalidError naming the flag. */
export function int(flag: string, text: string, min: number, max: number): number {
  const n = /^0x[0-9a-f]+$/i.test(text)
    ? Number.parseInt(text, 16)
    : /^\d+$/.test(text)
      ? Number(text)
      : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InputInvalidError(`${flag} ${text}: expected a whole number from ${min} to ${max}`);
  return n;
}

function port(flag: string, value: string | boolean | undefined, fallback: number): number | undefined {
  if (value === undefined) return undefined;
  return value === true ? fallback : int(flag, String(value), 1, 65535);
}

/** CIDR flags, canonical. @throws InputInvalidError naming the flag. */
export function cidrList(flag: string, list: string[]): string[] {
  return list.map((c) => {
    const parsed = parseCidr(c);
    if (!parsed.ok) throw new InputInvalidError(`${flag} ${parsed.message}`);
    return parsed.text;
  });
}

/**
 * `switchyard proxy mtls`: runs the sidecar until SIGTERM or SIGINT, then drains. With neither
 * port flag it serves both directions on the default ports, which are the ones
 * `switchyard redirect apply` captures into.
 */
export async function proxyMtlsCommand(
  registry: DriverRegistry,
  o: ProxyMtlsOptions,
  io: CliIo,
): Promise<number> {
  const both = o.inboundPort === undefined && o.outboundPort === undefined;
  const inboundPort = both
    ? DEFAULT_PORTS.inbound
    : port('--inbound-port', o.inboundPort, DEFAULT_PORTS.inbound);
  const outboundPort = both
    ? DEFAULT_PORTS.outbound
    : port('--outbound-port', o.outboundPort, DEFAULT_PORTS.outbound);
  const meshCidrs = cidrList('--mesh-cidr', o.meshCidr);
  const plaintextSources = cidrList('--plaintext-source', o.plaintextSource);
  const plaintextPorts = o.plaintextPort.map((p) => int('--plaintext-port', p, 1, 65535));
  const inboundAuthz = o.authz
    ? parseAuthorizationPolicy(await readDocument(o.authz, io.cwd), o.authz)
    : undefined;
  const outboundAuthz = o.outboundAuthz
    ? parseAuthorizationPolicy(await readDocument(o.outboundAuthz, io.cwd), o.outboundAuthz)
    : undefined;
  const drainMs = int('--drain-seconds', o.drainSeconds, 0, 86_400) * 1000;
  const certificates = await CertificateStore.open(o.certDir);
  const driver = await registry.create(o.driver ?? defaultDriver());
  const log = (line: object) =>
    io.stderr(`${JSON.stringify({ time: new Date().toISOString(), component: 'mtls-proxy', ...line })}\n`);
  certificates.on('error', (e) => log({ level: 'warn', msg: `certificate change not loaded: ${e.message}` }));

  const sidecar = new MtlsSidecar({
    socketOps: driver.socketOps,
    certificates,
    log,
    accessLog: o.accessLog === true,
    maxConnections: int('--max-connections', o.maxConnections, 1, 10_000_000),
    ...(o.netns ? { target: netnsTarget(o.netns) } : {}),
    ...(o.bypassMark ? { bypassMark: int('--bypass-mark', o.bypassMark, 1, 0xffffffff) } : {}),
    ...(inboundPort !== undefined
      ? {
          inbound: {
            port: inboundPort,
            plaintextSources,
            plaintextPorts,
            ...(inboundAuthz ? { authorization: inboundAuthz } : {}),
          },
        }
      : {}),
    ...(outboundPort !== undefined
      ? {
          outbound: {
            port: outboundPort,
            meshCidrs,
            passthroughOutsideMesh: o.passthrough === true,
            ...(outboundAuthz ? { authorization: outboundAuthz } : {}),
          },
        }
      : {}),
  });
  await sidecar.start();
  const admin = o.admin
    ? await startAdminServer(sidecar, { port: int('--admin-port', o.adminPort, 1, 65535), host: o.adminHost })
    : undefined;
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log({ level: 'info', msg: `${signal} received` });
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await sidecar.drain(drainMs);
  admin?.close();
  certificates.close();
  return EXIT.ok;
}
