import { hostname } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { IpFamily } from '@switchyard/core';
import { carrierNames, carrierUnavailable, loadCarrierModules } from '../carriers/carriers.js';
import { settleCarrier } from '../carriers/choose-carrier.js';
import type { AgentConfig, IdentityConfig, PolicyConfig, SourceConfig } from './agent-config.js';
import { AGENT_DEFAULTS as D } from './defaults.js';
import { Issues } from './issues.js';
import { validateMetadataProxy } from './metadata-config.js';
import { readDocument } from './read-document.js';

const TOP = [
  'node',
  'trustDomain',
  'source',
  'driver',
  'carrier',
  'carrierModules',
  'identity',
  'criEndpoint',
  'meshCidrs',
  'passthroughOutsideMesh',
  'identityFallback',
  'ports',
  'admin',
  'bypass',
  'families',
  'stateDir',
  'log',
  'drainSeconds',
  'resyncSeconds',
  'retry',
  'runtimeSocket',
  'announceGraceSeconds',
  'metadataProxy',
  'policy',
] as const;

/**
 * Checks an agent configuration document and fills in every default. Paths in it are resolved
 * against `baseDir` (the config file's folder).
 *
 * @throws InputInvalidError listing every problem with its field path; nothing is started.
 */
export function validateConfig(document: unknown, baseDir: string, shown = 'the agent config'): AgentConfig {
  const is = new Issues();
  const doc = is.object('(config)', document, false);
  is.unknown('', doc, TOP);
  const at = (p: unknown) => (typeof p === 'string' && !isAbsolute(p) ? resolve(baseDir, p) : (p as string));
  const ports = is.object('ports', doc.ports);
  is.unknown('ports', ports, ['inbound', 'outbound', 'hbone']);
  const admin = is.object('admin', doc.admin);
  is.unknown('admin', admin, ['host', 'port']);
  const bypass = is.object('bypass', doc.bypass);
  is.unknown('bypass', bypass, ['mark', 'userSid']);
  const log = is.object('log', doc.log);
  is.unknown('log', log, ['level', 'accessLog']);
  const retry = is.object('retry', doc.retry);
  is.unknown('retry', retry, ['initialMs', 'maxMs']);
  const families = is
    .array('families', doc.families ?? D.families)
    .map((f, i) => is.oneOf<IpFamily>(`families[${i}]`, f, ['ipv4', 'ipv6'], 'ipv4'));
  if (Array.isArray(doc.families) && doc.families.length === 0)
    is.add('families', 'name at least one of "ipv4", "ipv6"');
  const userSid = is.string('bypass.userSid', bypass.userSid);
  const criEndpoint = is.string('criEndpoint', doc.criEndpoint);
  const metadataProxy = validateMetadataProxy(is, doc.metadataProxy);
  const carrierModules = is
    .array('carrierModules', doc.carrierModules)
    .flatMap((m, i) => is.string(`carrierModules[${i}]`, m) ?? []);
  const stateDir = at(is.string('stateDir', doc.stateDir, D.stateDir));
  const config: AgentConfig = {
    node: is.string('node', doc.node, process.env.NODE_NAME ?? hostname()),
    trustDomain: is.string('trustDomain', doc.trustDomain, D.trustDomain),
    source: source(is, doc.source, at),
    driver: is.string('driver', doc.driver, D.driver),
    carrier: carrierField(is, doc.carrier, carrierModules.length > 0),
    carrierPinned: doc.carrier !== undefined,
    carrierModules,
    identity: identity(is, doc.identity, at),
    ...(criEndpoint ? { criEndpoint } : {}),
    meshCidrs: is.cidrs('meshCidrs', doc.meshCidrs),
    passthroughOutsideMesh: is.boolean('passthroughOutsideMesh', doc.passthroughOutsideMesh, false),
    identityFallback: is.oneOf(
      'identityFallback',
      doc.identityFallback,
      ['refuse', 'trust-domain'],
      D.identityFallback,
    ),
    ports: {
      inbound: is.port('ports.inbound', ports.inbound, D.ports.inbound),
      outbound: is.port('ports.outbound', ports.outbound, D.ports.outbound),
      hbone: is.port('ports.hbone', ports.hbone, D.ports.hbone),
    },
    admin: {
      host: is.string('admin.host', admin.host, D.admin.host),
      port: is.port('admin.port', admin.port, D.admin.port),
    },
    bypass: {
      mark: is.integer('bypass.mark', bypass.mark, D.bypassMark, 1, 0xffffffff),
      ...(userSid ? { userSid } : process.platform === 'win32' ? { userSid: D.bypassUserSid } : {}),
    },
    families: [...new Set(families)],
    stateDir,
    log: {
      level: is.oneOf('log.level', log.level, ['debug', 'info', 'warn', 'error'], D.logLevel),
      accessLog: is.boolean('log.accessLog', log.accessLog, false),
    },
    drainSeconds: is.integer('drainSeconds', doc.drainSeconds, D.drainSeconds, 0, 3600),
    resyncSeconds: is.integer('resyncSeconds', doc.resyncSeconds, D.resyncSeconds, 1, 3600),
    retry: {
      initialMs: is.integer('retry.initialMs', retry.initialMs, D.retry.initialMs, 1, 600_000),
      maxMs: is.integer('retry.maxMs', retry.maxMs, D.retry.maxMs, 1, 3_600_000),
    },
    runtimeSocket: at(is.string('runtimeSocket', doc.runtimeSocket, join(stateDir, D.runtimeSocketName))),
    announceGraceSeconds: is.integer(
      'announceGraceSeconds',
      doc.announceGraceSeconds,
      D.announceGraceSeconds,
      1,
      86_400,
    ),
    ...(metadataProxy ? { metadataProxy } : {}),
    policy: policy(is, doc.policy),
  };
  if (config.policy.mode === 'istio' && config.source.kind === 'docker')
    is.add(
      'policy.mode',
      'istio policies come from the kubernetes source or the workload file; the docker source has none',
    );
  checkPorts(is, config);
  is.throwIfAny(shown);
  return config;
}

function source(is: Issues, value: unknown, at: (p: unknown) => string): SourceConfig {
  const s = is.object('source', value);
  const kind = is.oneOf('source.kind', s.kind, ['file', 'kubernetes', 'docker'], D.sourceKind);
  if (kind === 'file') {
    is.unknown('source', s, ['kind', 'path']);
    return { kind, path: at(is.string('source.path', s.path, D.workloadFile)) };
  }
  if (kind === 'docker') {
    is.unknown('source', s, ['kind', 'socket', 'label']);
    return {
      kind,
      socket: is.string('source.socket', s.socket, D.dockerSocket),
      label: is.string('source.label', s.label, D.optInLabel),
    };
  }
  is.unknown('source', s, ['kind', 'kubeconfig', 'label']);
  const kubeconfig = is.string('source.kubeconfig', s.kubeconfig);
  return {
    kind,
    label: is.string('source.label', s.label, D.optInLabel),
    ...(kubeconfig ? { kubeconfig: at(kubeconfig) } : {}),
  };
}

function policy(is: Issues, value: unknown): PolicyConfig {
  const p = is.object('policy', value);
  is.unknown('policy', p, ['mode', 'rootNamespace', 'defaultMtls']);
  return {
    mode: is.oneOf('policy.mode', p.mode, ['namespace', 'istio'], D.policy.mode),
    rootNamespace: is.string('policy.rootNamespace', p.rootNamespace, D.policy.rootNamespace),
    defaultMtls: is.oneOf(
      'policy.defaultMtls',
      p.defaultMtls,
      ['STRICT', 'PERMISSIVE'],
      D.policy.defaultMtls,
    ),
  };
}

function identity(is: Issues, value: unknown, at: (p: unknown) => string): IdentityConfig {
  const id = is.object('identity', value, false);
  is.unknown('identity', id, ['caDir', 'certHours', 'certDir']);
  const caDir = is.string('identity.caDir', id.caDir);
  const certDir = is.string('identity.certDir', id.certDir);
  if (caDir && certDir)
    is.add('identity', 'give caDir (the agent issues certificates) or certDir (it reads them), not both');
  if (certDir) return { certDir: at(certDir) };
  if (!caDir)
    is.add(
      'identity',
      'give caDir (a CA directory the agent issues from) or certDir (a certificate directory per workload, with {namespace}, {serviceAccount} or {name})',
    );
  return {
    caDir: at(caDir ?? ''),
    certHours: is.integer('identity.certHours', id.certHours, D.certHours, 1, 8760),
  };
}

function checkPorts(is: Issues, c: AgentConfig): void {
  const named = {
    'ports.inbound': c.ports.inbound,
    'ports.outbound': c.ports.outbound,
    'ports.hbone': c.ports.hbone,
    'admin.port': c.admin.port,
    ...(c.metadataProxy ? { 'metadataProxy.port': c.metadataProxy.port } : {}),
  };
  const seen = new Map<number, string>();
  for (const [path, port] of Object.entries(named)) {
    const other = seen.get(port);
    if (other) is.add(path, `${port} is also ${other}; every proxy port must be different`);
    seen.set(port, path);
  }
  if (c.retry.maxMs < c.retry.initialMs)
    is.add('retry.maxMs', `must be at least retry.initialMs (${c.retry.initialMs})`);
}

/**
 * Reads, checks and completes the agent config file, and checks that a carrier it names can run on
 * this host (`mtls-native` needs the native relay engine); where it names none, the default's
 * fallback is chosen here (see `chooseCarrier`).
 */
export async function loadConfig(path: string): Promise<AgentConfig> {
  const config = validateConfig(
    await readDocument(path, 'agent config'),
    dirname(resolve(path)),
    resolve(path),
  );
  const is = new Issues();
  for (const p of await loadCarrierModules(config.carrierModules, dirname(resolve(path))))
    is.add(`carrierModules[${p.index}]`, p.message);
  if (!carrierNames().includes(config.carrier))
    is.oneOf('carrier', config.carrier, carrierNames(), config.carrier);
  else if (config.carrierPinned) {
    const why = await carrierUnavailable(config.carrier);
    if (why) is.add('carrier', why);
  }
  is.throwIfAny(resolve(path));
  return (await settleCarrier(config)).config;
}

/**
 * The `carrier` field: a registered carrier's name. With `carrierModules` the carriers they bring
 * are not known yet, so any usable name passes here and {@link loadConfig} checks it after loading.
 */
function carrierField(is: Issues, value: unknown, modules: boolean): string {
  if (!modules) return is.oneOf('carrier', value, carrierNames(), D.carrier);
  return is.string('carrier', value, D.carrier);
}
