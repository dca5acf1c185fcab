import { DEFAULT_PORTS, type DriverRegistry } from '@switchyard/core';
import { HboneSidecar, ReverseTunnelDialer, SNI_GATEWAY_PORT, SniGateway } from '@switchyard/hbone';
import { CertificateStore, parseAuthorizationPolicy } from '@switchyard/mesh';
import { startAdminServer } from '@switchyard/mtls-proxy';
import { EXIT } from '../exit-codes.js';
import { parseGateway, parseSniRoute } from '../hbone-flags.js';
import type { CliIo } from '../io.js';
import { readDocument } from '../read-document.js';
import { cidrList, int, type ProxyMtlsOptions } from './proxy-mtls.js';
import { defaultDriver, netnsTarget } from './redirect.js';

/** Flags of `switchyard proxy hbone`: those of `proxy mtls`, plus the HBONE port. */
export interface ProxyHboneOptions extends ProxyMtlsOptions {
  hbonePort: string;
  /** Run the SNI gateway on this port (`true`: 15443). */
  sniGateway?: string | boolean;
  sniRoute: string[];
  /** Hold a reverse tunnel (H2R) to this gateway. */
  reverseGateway?: string;
}

/**
 * `switchyard proxy hbone`: captured outbound TCP leaves as HBONE (CONNECT over pooled mTLS to the
 * destination's 15008); inbound, the HBONE server on 15008 hands tunnels to the app. The inbound
 * capture must exclude 15008 (`redirect apply --exclude-port 15008`) so peers reach it directly.
 */
export async function proxyHboneCommand(
  registry: DriverRegistry,
  o: ProxyHboneOptions,
  io: CliIo,
): Promise<number> {
  const log = (line: object) =>
    io.stderr(`${JSON.stringify({ time: new Date().toISOString(), component: 'hbone', ...line })}\n`);
  const inboundAuthz = o.authz
    ? parseAuthorizationPolicy(await readDocument(o.authz, io.cwd), o.authz)
    : undefined;
  const outboundAuthz = o.outboundAuthz
    ? parseAuthorizationPolicy(await readDocument(o.outboundAuthz, io.cwd), o.outboundAuthz)
    : undefined;
  const certificates = await CertificateStore.open(o.certDir);
  const driver = await registry.create(o.driver ?? defaultDriver());
  const sidecar = new HboneSidecar({
    socketOps: driver.socketOps,
    certificates,
    log,
    accessLog: o.accessLog === true,
    outboundPort:
      o.outboundPort === undefined || o.outboundPort === true
        ? DEFAULT_PORTS.outbound
        : int('--outbound-port', String(o.outboundPort), 1, 65535),
    inboundPort:
      o.inboundPort === undefined || o.inboundPort === true
        ? DEFAULT_PORTS.inbound
        : int('--inbound-port', String(o.inboundPort), 1, 65535),
    hbonePort: int('--hbone-port', o.hbonePort, 1, 65535),
    meshCidrs: cidrList('--mesh-cidr', o.meshCidr),
    plaintextSources: cidrList('--plaintext-source', o.plaintextSource),
    passthroughOutsideMesh: o.passthrough === true,
    ...(inboundAuthz ? { inboundAuthorization: inboundAuthz } : {}),
    ...(outboundAuthz ? { outboundAuthorization: outboundAuthz } : {}),
    ...(o.netns ? { target: netnsTarget(o.netns) } : {}),
  });
  const routes = new Map(o.sniRoute.map(parseSniRoute));
  const gatewayAddress = o.reverseGateway ? parseGateway(o.reverseGateway) : undefined;
  await sidecar.start();
  const sni =
    o.sniGateway !== undefined
      ? new SniGateway({
          socketOps: driver.socketOps,
          client: sidecar.client,
          port:
            o.sniGateway === true ? SNI_GATEWAY_PORT : int('--sni-gateway', String(o.sniGateway), 1, 65535),
          route: (name) => routes.get(name.toLowerCase()),
          onRefused: (reason) => log({ level: 'info', msg: 'sni gateway refused a session', reason }),
        })
      : undefined;
  await sni?.start();
  const reverse =
    gatewayAddress && sidecar.server
      ? new ReverseTunnelDialer({
          socketOps: driver.socketOps,
          certificates,
          server: sidecar.server,
          gateway: gatewayAddress,
        })
      : undefined;
  await reverse?.start();
  const admin = o.admin
    ? await startAdminServer(sidecar, { port: int('--admin-port', o.adminPort, 1, 65535), host: o.adminHost })
    : undefined;
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  log({ level: 'info', msg: 'draining' });
  reverse?.stop();
  await sni?.close();
  await sidecar.drain(int('--drain-seconds', o.drainSeconds, 0, 86_400) * 1000);
  admin?.close();
  certificates.close();
  return EXIT.ok;
}
