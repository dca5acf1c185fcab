import { DEFAULT_PORTS, type DriverRegistry, InputInvalidError } from '@switchyard/core';
import type { CarrierRegistry } from '@switchyard/dataplane';
import { HboneSidecar, ReverseTunnelDialer, SNI_GATEWAY_PORT } from '@switchyard/hbone';
import { CertificateStore } from '@switchyard/mesh';
import { carrierFactory, DEFAULT_HBONE_CARRIER, hboneCarrierName } from '../carrier-choice.js';
import { EXIT } from '../exit-codes.js';
import { portFlag, wholeNumber } from '../flag-values.js';
import { parseGateway, parseSniRoute } from '../hbone-flags.js';
import type { CliIo } from '../io.js';
import { type ProxyPart, runUntilSignal } from '../proxy-lifecycle.js';
import {
  adminPart,
  authzFile,
  commonProxySettings,
  componentLog,
  identitiesFlag,
  type ProxyMtlsOptions,
} from './proxy-mtls.js';

/**
 * Flags of `switchyard proxy hbone`: those of `proxy mtls` except `--plaintext-port`,
 * `--bypass-mark`, `--max-connections` and `--engine`, plus the HBONE port, the SNI gateway and
 * reverse tunnels (`--carrier` names an HBONE carrier here).
 */
export interface ProxyHboneOptions
  extends Omit<ProxyMtlsOptions, 'plaintextPort' | 'bypassMark' | 'maxConnections' | 'engine'> {
  hbonePort: string;
  /** Run the SNI gateway on this port (`true`: 15443). */
  sniGateway?: string | boolean;
  sniRoute: string[];
  /** Hold a reverse tunnel (H2R) to this gateway. */
  reverseGateway?: string;
}

/** Every `proxy hbone` flag, checked before anything listens. @throws InputInvalidError naming the flag. */
function hboneSettings(o: ProxyHboneOptions) {
  return {
    common: commonProxySettings(o),
    outboundPort: portFlag('--outbound-port', o.outboundPort ?? true, DEFAULT_PORTS.outbound) as number,
    inboundPort: portFlag('--inbound-port', o.inboundPort ?? true, DEFAULT_PORTS.inbound) as number,
    hbonePort: wholeNumber('--hbone-port', o.hbonePort, 1, 65535),
    sniPort: portFlag('--sni-gateway', o.sniGateway, SNI_GATEWAY_PORT),
    routes: new Map(o.sniRoute.map(parseSniRoute)),
    gateway: o.reverseGateway === undefined ? undefined : parseGateway(o.reverseGateway),
  };
}

/**
 * `switchyard proxy hbone`: captured outbound TCP leaves as HBONE (CONNECT over pooled mTLS to the
 * destination's 15008); inbound, the HBONE server on 15008 hands tunnels to the app. The inbound
 * capture must exclude 15008 (`redirect apply --exclude-port 15008`) so peers reach it directly.
 * `--carrier` picks an HBONE carrier from the registry (`hbone-native`: on the native engine),
 * checked to run here before anything listens.
 */
export async function proxyHboneCommand(
  registry: DriverRegistry,
  o: ProxyHboneOptions,
  io: CliIo,
  carriers: CarrierRegistry,
): Promise<number> {
  const s = hboneSettings(o);
  const choice = hboneCarrierName(carriers, o.carrier);
  if (choice.name !== DEFAULT_HBONE_CARRIER && (s.sniPort !== undefined || s.gateway))
    throw new InputInvalidError(
      `${choice.flag} serves no ${s.sniPort !== undefined ? '--sni-gateway' : '--reverse-gateway'} (the SNI gateway and reverse tunnels run on the hbone carrier); drop it, or use --carrier ${DEFAULT_HBONE_CARRIER}`,
    );
  const carrier = await carrierFactory(carriers, choice, DEFAULT_HBONE_CARRIER);
  const inboundAuthz = await authzFile(o.authz, io.cwd);
  const outboundAuthz = await authzFile(o.outboundAuthz, io.cwd);
  const identities = await identitiesFlag(o.identities, io.cwd);
  const driver = await registry.create(s.common.driver);
  const certificates = await CertificateStore.open(o.certDir);
  const log = componentLog(io, 'hbone');
  const sidecar = new HboneSidecar({
    socketOps: driver.socketOps,
    certificates,
    log,
    ...(carrier ? { carrier } : {}),
    accessLog: o.accessLog === true,
    // The admin port is a proxy port: the data plane refuses to relay a peer to it.
    ...(s.common.admin ? { adminPort: s.common.admin.port } : {}),
    outboundPort: s.outboundPort,
    inboundPort: s.inboundPort,
    hbonePort: s.hbonePort,
    meshCidrs: s.common.meshCidrs,
    plaintextSources: s.common.plaintextSources,
    passthroughOutsideMesh: o.passthrough === true,
    ...(inboundAuthz ? { inboundAuthorization: inboundAuthz } : {}),
    ...(outboundAuthz ? { outboundAuthorization: outboundAuthz } : {}),
    ...(identities ? { identities } : {}),
    ...(s.common.target ? { target: s.common.target } : {}),
    // The SNI gateway is one more listener of the sidecar's data plane: its limits, drain and metrics.
    ...(s.sniPort !== undefined
      ? {
          sniGateway: {
            port: s.sniPort,
            route: (name: string) => s.routes.get(name.toLowerCase()),
            onRefused: (reason: string) =>
              log({ level: 'info', msg: 'sni gateway refused a session', reason }),
          },
        }
      : {}),
  });
  const parts: ProxyPart[] = [
    { name: 'hbone sidecar', start: () => sidecar.start(), stop: (ms) => sidecar.drain(ms) },
  ];
  // The reverse tunnel uses the sidecar's server, which exists once it has started: it is made when it starts.
  if (s.gateway) {
    const gateway = s.gateway;
    let reverse: ReverseTunnelDialer | undefined;
    parts.push({
      name: 'reverse tunnel',
      start: () => {
        const server = sidecar.server;
        if (!server) throw new Error('the HBONE server is not running');
        reverse = new ReverseTunnelDialer({
          socketOps: driver.socketOps,
          certificates,
          server,
          gateway,
          ...(sidecar.upstream ? { upstream: sidecar.upstream } : {}),
          ...(s.common.target ? { target: s.common.target } : {}),
        });
        return reverse.start();
      },
      stop: async () => reverse?.stop(),
    });
  }
  if (s.common.admin)
    parts.push(
      adminPart(
        sidecar,
        s.common.admin,
        s.common.target && { target: s.common.target, socketOps: driver.socketOps },
      ),
    );
  try {
    await runUntilSignal(parts, s.common.drainMs, log);
  } finally {
    certificates.close();
  }
  return EXIT.ok;
}
