import {
  mergePortRanges,
  type NormalizedPolicy,
  normalizePolicy,
  PolicyUnsupportedError,
  type PortRange,
} from '@switchyard/core';

/** Exceptions of an L4WFPPROXY policy: traffic to these addresses or ports is not redirected. */
export interface ProxyExceptions {
  IpAddressExceptions?: string[];
  PortExceptions?: string[];
}

/** The HNS five-tuple filter: only matching traffic is redirected. */
export interface FiveTuple {
  Protocols?: string;
  LocalAddresses?: string;
  RemoteAddresses?: string;
  LocalPorts?: string;
  RemotePorts?: string;
  Priority?: number;
}

/** `L4WfpProxyPolicySetting` as HNS takes it (ports are strings). */
export interface L4WfpProxySettings {
  InboundProxyPort?: string;
  OutboundProxyPort?: string;
  FilterTuple?: FiveTuple;
  UserSID?: string;
  InboundExceptions?: ProxyExceptions;
  OutboundExceptions?: ProxyExceptions;
}

/** An endpoint policy of type L4WFPPROXY. */
export interface L4WfpProxyPolicy {
  Type: 'L4WFPPROXY';
  Settings: L4WfpProxySettings;
}

/** LocalSystem: a proxy running as SYSTEM bypasses capture with this SID. */
export const LOCAL_SYSTEM_SID = 'S-1-5-18';
/**
 * BUILTIN\Network Configuration Operators. UserSID matches by prefix, so running the proxy as a
 * member of this group lets every such account bypass capture without knowing its SID in advance.
 */
export const NETWORK_CONFIGURATION_OPERATORS_SID = 'S-1-5-32-556';

/** HNS first shipping L4WFPPROXY with separate inbound/outbound ports and exceptions (Windows Server 2022). */
export const REQUIRED_HNS_VERSION = { major: 13, minor: 2 } as const;

const LOOPBACK = '127.0.0.1';
const TCP = '6';
const MAX_EXPANDED_PORTS = 1024;
const MAX_POLICIES = 64;

const unsupported = (message: string) =>
  new PolicyUnsupportedError(`HNS cannot express this policy: ${message}`);

function portList(ranges: PortRange[], what: string): string[] {
  const count = ranges.reduce((n, r) => n + r.to - r.from + 1, 0);
  if (count > MAX_EXPANDED_PORTS) {
    throw unsupported(
      `${what} lists ${count} ports; HNS PortExceptions take single ports, at most ${MAX_EXPANDED_PORTS} — narrow the ranges`,
    );
  }
  return ranges.flatMap((r) => Array.from({ length: r.to - r.from + 1 }, (_, i) => String(r.from + i)));
}

const rangeText = (r: PortRange) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`);
const addressOf = (cidr: string) => (cidr.endsWith('/32') ? cidr.slice(0, -3) : cidr);

/**
 * Maps a policy to the L4WFPPROXY policies that express it on an HNS endpoint. Without include
 * filters that is one policy carrying both proxy ports; include filters become one policy per
 * filter value (per direction), since a five-tuple holds one value per field. Loopback is always
 * excepted. What HNS cannot express — IPv6, mark/uid/gid bypass — is refused, never dropped.
 *
 * @throws PolicyUnsupportedError naming what to change.
 */
export function toHnsPolicies(policy: NormalizedPolicy): L4WfpProxyPolicy[] {
  if (policy.families.includes('ipv6')) {
    throw unsupported('L4WFPPROXY redirects IPv4 only; set "families": ["ipv4"]');
  }
  const { mark, uid, gid, userSid } = policy.bypass;
  if (mark !== undefined || uid !== undefined || gid !== undefined) {
    throw unsupported(
      `Windows recognises the proxy by its user SID, not by a socket mark, uid or gid; use "bypass": {"userSid": "${NETWORK_CONFIGURATION_OPERATORS_SID}"} (or ${LOCAL_SYSTEM_SID} for LocalSystem)`,
    );
  }
  const common = (filter: FiveTuple): L4WfpProxySettings => ({
    FilterTuple: { Protocols: TCP, ...filter, ...(policy.priority > 0 ? { Priority: policy.priority } : {}) },
    ...(userSid ? { UserSID: userSid } : {}),
  });
  const inboundExceptions = (): ProxyExceptions => ({
    IpAddressExceptions: [LOOPBACK],
    ...(policy.inbound?.excludePorts.length
      ? { PortExceptions: portList(policy.inbound.excludePorts, 'inbound.excludePorts') }
      : {}),
  });
  const outboundExceptions = (): ProxyExceptions => ({
    IpAddressExceptions: [
      LOOPBACK,
      ...(policy.outbound?.excludeCidrs ?? []).map(addressOf).filter((a) => a !== LOOPBACK),
    ],
    ...(policy.outbound?.excludePorts.length
      ? { PortExceptions: portList(policy.outbound.excludePorts, 'outbound.excludePorts') }
      : {}),
  });

  const { inbound, outbound } = policy;
  const inboundFiltered = (inbound?.includePorts.length ?? 0) > 0;
  const outboundFiltered = (outbound?.includeCidrs.length ?? 0) + (outbound?.includePorts.length ?? 0) > 0;
  const policies: L4WfpProxyPolicy[] = [];
  if (inbound && outbound && !inboundFiltered && !outboundFiltered) {
    policies.push({
      Type: 'L4WFPPROXY',
      Settings: {
        InboundProxyPort: String(inbound.port),
        OutboundProxyPort: String(outbound.port),
        ...common({}),
        InboundExceptions: inboundExceptions(),
        OutboundExceptions: outboundExceptions(),
      },
    });
    return policies;
  }
  if (inbound) {
    const localPorts = inbound.includePorts.length > 0 ? inbound.includePorts.map(rangeText) : [undefined];
    for (const LocalPorts of localPorts) {
      policies.push({
        Type: 'L4WFPPROXY',
        Settings: {
          InboundProxyPort: String(inbound.port),
          ...common(LocalPorts ? { LocalPorts } : {}),
          InboundExceptions: inboundExceptions(),
        },
      });
    }
  }
  if (outbound) {
    const addresses = outbound.includeCidrs.length > 0 ? outbound.includeCidrs.map(addressOf) : [undefined];
    const ports = outbound.includePorts.length > 0 ? outbound.includePorts.map(rangeText) : [undefined];
    for (const RemoteAddresses of addresses) {
      for (const RemotePorts of ports) {
        policies.push({
          Type: 'L4WFPPROXY',
          Settings: {
            OutboundProxyPort: String(outbound.port),
            ...common({
              ...(RemoteAddresses ? { RemoteAddresses } : {}),
              ...(RemotePorts ? { RemotePorts } : {}),
            }),
            OutboundExceptions: outboundExceptions(),
          },
        });
      }
    }
  }
  if (policies.length > MAX_POLICIES) {
    throw unsupported(
      `its include filters need ${policies.length} L4WFPPROXY policies (at most ${MAX_POLICIES}); list fewer addresses or ports`,
    );
  }
  return policies;
}

/** Reads a key whatever its case: HNS returns `ID` or `Id`, `Settings` or `settings`. */
export function field(obj: unknown, key: string): unknown {
  if (typeof obj !== 'object' || obj === null) return undefined;
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
const ports = (texts: (string | undefined)[]): PortRange[] =>
  mergePortRanges(
    texts
      .filter((t): t is string => t !== undefined && t !== '')
      .map((t) => {
        const [from, to = from] = t.split('-').map(Number) as [number, number?];
        return { from, to };
      }),
  );
const cidr = (address: string) => (address.includes('/') ? address : `${address}/32`);

/** Rebuilds the policy (with the given id) from the L4WFPPROXY policies HNS returns for it. */
export function fromHnsPolicies(id: string, returned: unknown[]): NormalizedPolicy {
  const settings = returned.map((p) => field(p, 'Settings'));
  const first = settings[0];
  const inboundSettings = settings.filter((s) => field(s, 'InboundProxyPort') !== undefined);
  const outboundSettings = settings.filter((s) => field(s, 'OutboundProxyPort') !== undefined);
  const tuple = (s: unknown, key: string) => field(field(s, 'FilterTuple'), key) as string | undefined;
  const userSid = field(first, 'UserSID') as string | undefined;
  const priority = Number(field(field(first, 'FilterTuple'), 'Priority') ?? 0);
  const doc: Record<string, unknown> = {
    id,
    families: ['ipv4'],
    priority,
    bypass: userSid ? { userSid } : {},
  };
  if (inboundSettings.length > 0) {
    doc.inbound = {
      port: Number(field(inboundSettings[0], 'InboundProxyPort')),
      includePorts: ports(inboundSettings.map((s) => tuple(s, 'LocalPorts'))),
      excludePorts: ports(strings(field(field(inboundSettings[0], 'InboundExceptions'), 'PortExceptions'))),
    };
  }
  if (outboundSettings.length > 0) {
    const exceptions = field(outboundSettings[0], 'OutboundExceptions');
    doc.outbound = {
      port: Number(field(outboundSettings[0], 'OutboundProxyPort')),
      includeCidrs: [
        ...new Set(outboundSettings.map((s) => tuple(s, 'RemoteAddresses')).filter((a): a is string => !!a)),
      ].map(cidr),
      excludeCidrs: strings(field(exceptions, 'IpAddressExceptions'))
        .filter((a) => a !== LOOPBACK)
        .map(cidr),
      includePorts: ports(outboundSettings.map((s) => tuple(s, 'RemotePorts'))),
      excludePorts: ports(strings(field(exceptions, 'PortExceptions'))),
    };
  }
  return normalizePolicy(doc);
}

/** The HcnModifyEndpoint request that adds or removes policies. */
export function modifyRequest(requestType: 'Add' | 'Remove', policies: unknown[]): Record<string, unknown> {
  return { ResourceType: 'Policy', RequestType: requestType, Settings: { Policies: policies } };
}
