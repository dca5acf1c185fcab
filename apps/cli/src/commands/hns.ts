import {
  type DriverRegistry,
  type HnsEndpointTarget,
  InputInvalidError,
  normalizePolicy,
  parseTarget,
  type RedirectionPolicy,
} from '@switchyard/core';
import { type hnsDriver, LOCAL_SYSTEM_SID, modifyRequest, toHnsPolicies } from '@switchyard/driver-hns';
import { EXIT } from '../exit-codes.js';
import { wholeNumber } from '../flag-values.js';
import { type CliIo, printJson } from '../io.js';

/** Flags every `hns` command takes to reach HNS (the library flags exist for tests against the stand-in). */
export interface HnsConnection {
  hcnLibrary?: string;
  stateDir?: string;
}

/** Flags of `switchyard hns add`, named as hcnproxyctl names them. */
export interface HnsAddOptions extends HnsConnection {
  port?: string;
  inboundPort?: string;
  outboundPort?: string;
  usersid?: string;
  localaddr?: string;
  remoteaddr?: string;
  localports?: string;
  remoteports?: string;
  priority?: string;
  excludePort: string[];
  excludeIp: string[];
  protocol?: string;
  id?: string;
  dryRun?: boolean;
}

type HnsDriver = ReturnType<typeof hnsDriver>;

function endpointOf(text: string): string {
  return (parseTarget(`hns:${text}`) as HnsEndpointTarget).id;
}

/** A port list item: a number, or a range string the policy's own checks read ("8000-8003"). */
const portSpec = (text: string): number | string => (/^\d+$/.test(text) ? Number(text) : text);

/** Refuses a filter flag whose direction was not asked for, instead of dropping it. */
function needsDirection(o: HnsAddOptions, inbound: boolean, outbound: boolean): void {
  const filters = [
    ['--localports', o.localports, inbound, '--inbound-port PORT'],
    ['--remoteports', o.remoteports, outbound, '--port PORT'],
    ['--remoteaddr', o.remoteaddr, outbound, '--port PORT'],
    ['--exclude-ip', o.excludeIp.length > 0 ? 'x' : undefined, outbound, '--port PORT'],
  ] as const;
  for (const [flag, value, present, add] of filters)
    if (value !== undefined && !present)
      throw new InputInvalidError(
        `${flag} filters ${add.startsWith('--inbound') ? 'inbound' : 'outbound'} traffic, which this command does not redirect; add ${add}, or drop ${flag}`,
      );
}

/** Builds the policy from hcnproxyctl-style flags; every mistake is reported before HNS is called. */
export function policyFromHnsFlags(o: HnsAddOptions): RedirectionPolicy {
  if (o.localaddr !== undefined) {
    throw new InputInvalidError(
      '--localaddr is not supported yet: a Switchyard policy filters by local port (--localports), not by local address',
    );
  }
  if (o.protocol !== undefined && !['tcp', '6'].includes(o.protocol.toLowerCase())) {
    throw new InputInvalidError(
      `--protocol ${o.protocol}: L4WFPPROXY redirects TCP only; use --protocol tcp (or 6)`,
    );
  }
  if (o.port !== undefined && o.outboundPort !== undefined && o.port !== o.outboundPort)
    throw new InputInvalidError('--port and --outbound-port name the same port; give one of them');
  const outbound = o.outboundPort ?? o.port;
  if (outbound === undefined && o.inboundPort === undefined) {
    throw new InputInvalidError(
      'say which proxy port: --port PORT (outbound, as hcnproxyctl) and/or --inbound-port PORT',
    );
  }
  needsDirection(o, o.inboundPort !== undefined, outbound !== undefined);
  const list = (text: string | undefined) =>
    (text ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map(portSpec);
  const excluded = o.excludePort.map(portSpec);
  const policy: RedirectionPolicy = { families: ['ipv4'] };
  if (o.id !== undefined) policy.id = o.id;
  if (o.inboundPort !== undefined) {
    // The policy checks ports itself, so flag and file mistakes read the same ("outbound.port: 0 is not a port").
    policy.inbound = { port: portSpec(o.inboundPort) as number };
    if (o.localports) policy.inbound.includePorts = list(o.localports);
    if (excluded.length > 0) policy.inbound.excludePorts = excluded;
  }
  if (outbound !== undefined) {
    policy.outbound = { port: portSpec(outbound) as number };
    if (o.remoteports) policy.outbound.includePorts = list(o.remoteports);
    if (o.remoteaddr) policy.outbound.includeCidrs = o.remoteaddr.split(',').map((a) => a.trim());
    if (o.excludeIp.length > 0) policy.outbound.excludeCidrs = o.excludeIp;
    if (excluded.length > 0) policy.outbound.excludePorts = excluded;
  }
  if (o.usersid !== undefined)
    policy.bypass = { userSid: o.usersid.toLowerCase() === 'system' ? LOCAL_SYSTEM_SID : o.usersid };
  if (o.priority !== undefined) policy.priority = wholeNumber('--priority', o.priority, 0, 65535);
  return policy;
}

async function driverFor(registry: DriverRegistry, o: HnsConnection): Promise<HnsDriver> {
  const library = o.hcnLibrary
    ? { computenetwork: o.hcnLibrary, vmcompute: o.hcnLibrary, ole32: o.hcnLibrary }
    : undefined;
  return (await registry.create('hns', {
    ...(library ? { library } : {}),
    ...(o.stateDir ? { stateDir: o.stateDir } : {}),
  })) as HnsDriver;
}

/** `switchyard hns add <endpoint>`: hcnproxyctl's `add`, validated in full before any HNS call. */
export async function hnsAddCommand(
  registry: DriverRegistry,
  endpointText: string,
  o: HnsAddOptions,
  io: CliIo,
  json: boolean,
) {
  const endpoint = endpointOf(endpointText);
  const policy = normalizePolicy(policyFromHnsFlags(o));
  const request = modifyRequest('Add', toHnsPolicies(policy));
  if (o.dryRun) {
    if (json) printJson(io, { endpoint, dryRun: true, request });
    else io.stdout(`${JSON.stringify(request, null, 2)}\n`);
    return EXIT.ok;
  }
  const driver = await driverFor(registry, o);
  const result = await driver.apply({ kind: 'hns-endpoint', id: endpoint }, policy);
  if (json) printJson(io, { endpoint, ...result });
  else
    io.stdout(
      result.changed
        ? `Added policy "${result.id}" to endpoint ${endpoint}\n`
        : `Endpoint ${endpoint} already has policy "${result.id}"\n`,
    );
  return EXIT.ok;
}

/** `switchyard hns list <endpoint>`: every L4WFPPROXY policy on the endpoint, as HNS returns it. */
export async function hnsListCommand(
  registry: DriverRegistry,
  endpointText: string,
  o: HnsConnection,
  io: CliIo,
  json: boolean,
) {
  const endpoint = endpointOf(endpointText);
  const policies = await (await driverFor(registry, o)).proxyPolicies(endpoint);
  if (json) printJson(io, { endpoint, policies });
  else if (policies.length === 0) io.stdout(`No L4WFPPROXY policies on endpoint ${endpoint}\n`);
  else io.stdout(`${policies.map((p) => JSON.stringify(p)).join('\n')}\n`);
  return EXIT.ok;
}

/** `switchyard hns clear <endpoint>`: removes every L4WFPPROXY policy (hcnproxyctl's ClearPolicies). */
export async function hnsClearCommand(
  registry: DriverRegistry,
  endpointText: string,
  o: HnsConnection & { dryRun?: boolean },
  io: CliIo,
  json: boolean,
) {
  const endpoint = endpointOf(endpointText);
  if (o.dryRun && !o.hcnLibrary && process.platform !== 'win32') {
    // No HNS to read the policies from: show the request's shape, which is all a dry run can know here.
    const request = modifyRequest('Remove', [
      '<each L4WFPPROXY policy on the endpoint, exactly as HNS returns it>',
    ]);
    if (json) printJson(io, { endpoint, dryRun: true, request });
    else io.stdout(`${JSON.stringify(request, null, 2)}\n`);
    return EXIT.ok;
  }
  const { removed, request } = await (await driverFor(registry, o)).clearAll(endpoint, o.dryRun === true);
  if (json) printJson(io, { endpoint, dryRun: o.dryRun === true, removed, request });
  else if (o.dryRun)
    io.stdout(
      `${JSON.stringify(request, null, 2)}\nWould remove ${removed} ${removed === 1 ? 'policy' : 'policies'}\n`,
    );
  else io.stdout(`Removed ${removed} ${removed === 1 ? 'policy' : 'policies'}\n`);
  return EXIT.ok;
}
