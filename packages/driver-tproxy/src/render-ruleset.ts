import { formatPortRange, type IpFamily, type NormalizedPolicy, type PortRange } from '@switchyard/core';
import { type RoutingSettings, TABLE_NAME } from './settings.js';

const hex = (n: number) => `0x${n.toString(16)}`;

/** The `ip` commands (without `ip`) that give the ruleset its policy routing, per family. */
export function routingCommands(
  family: IpFamily,
  settings: RoutingSettings,
): { rule: string[]; route: string[] } {
  const flag = family === 'ipv4' ? '-4' : '-6';
  return {
    rule: [
      flag,
      'rule',
      'add',
      'fwmark',
      hex(settings.tproxyMark),
      'lookup',
      String(settings.routeTable),
      'priority',
      String(settings.rulePriority),
    ],
    route: [
      flag,
      'route',
      'replace',
      'local',
      family === 'ipv4' ? '0.0.0.0/0' : '::/0',
      'dev',
      'lo',
      'table',
      String(settings.routeTable),
    ],
  };
}

/**
 * The table's comment: the policy's scalar fields, so `list` can rebuild the policy from the
 * kernel alone (lists live in named sets). nft caps comments at 128 bytes; this stays under it.
 */
export function policyComment(policy: NormalizedPolicy): string {
  const parts = [`swy1 id=${policy.id}`, `f=${policy.families.map((f) => f.slice(3)).join(',')}`];
  if (policy.inbound) parts.push(`in=${policy.inbound.port}`);
  if (policy.outbound) parts.push(`out=${policy.outbound.port}`);
  if (policy.bypass.mark !== undefined) parts.push(`mark=${policy.bypass.mark}`);
  if (policy.bypass.uid !== undefined) parts.push(`uid=${policy.bypass.uid}`);
  if (policy.bypass.gid !== undefined) parts.push(`gid=${policy.bypass.gid}`);
  parts.push(`prio=${policy.priority}`);
  return parts.join(' ');
}

function set(name: string, type: string, elements: string[]): string[] {
  if (elements.length === 0) return [];
  return [
    `\tset ${name} {`,
    `\t\ttype ${type}`,
    '\t\tflags interval',
    `\t\telements = { ${elements.join(', ')} }`,
    '\t}',
    '',
  ];
}

const ports = (ranges: PortRange[]) => ranges.map(formatPortRange);
const byFamily = (cidrs: string[], family: IpFamily) =>
  cidrs.filter((c) => c.includes(':') === (family === 'ipv6'));

/**
 * Renders the nftables script for a policy: one `inet` table, replaced as a whole in one
 * transaction (`nft -f`), so the namespace holds the old ruleset or the new one, never a mix.
 * The policy-routing commands `apply` runs beside it are listed in the script's header.
 *
 * Inbound: TCP arriving for the workload is TPROXYed to the inbound port, except loopback,
 * replies to the workload's own connections, and excluded local ports.
 * Outbound: TCP the workload sends is marked on output and rerouted through `lo`, where
 * prerouting TPROXYs it to the outbound port; the proxy's own traffic (bypass mark, uid, gid),
 * local destinations and excluded destinations are let through. Replies to the proxy's dials that
 * keep a remote client's address as source are marked by connection so they come back to the proxy.
 */
export function renderRuleset(policy: NormalizedPolicy, settings: RoutingSettings): string {
  const mark = hex(settings.tproxyMark);
  const bypass = hex(policy.bypass.mark ?? settings.defaultBypassMark);
  const { inbound, outbound } = policy;
  const families = policy.families;
  const v4 = families.includes('ipv4');
  const v6 = families.includes('ipv6');

  const header = [
    `# Switchyard tproxy policy "${policy.id}" (${policy.protocol}, ${families.join(' + ')}).`,
    '# Policy routing applied beside it:',
    ...families.flatMap((f) => {
      const r = routingCommands(f, settings);
      return [`#   ip ${r.rule.join(' ')}`, `#   ip ${r.route.join(' ')}`];
    }),
  ];

  const sets = [
    ...(inbound ? set('inbound_include_ports', 'inet_service', ports(inbound.includePorts)) : []),
    ...(inbound ? set('inbound_exclude_ports', 'inet_service', ports(inbound.excludePorts)) : []),
    ...(outbound ? set('outbound_include_ports', 'inet_service', ports(outbound.includePorts)) : []),
    ...(outbound ? set('outbound_exclude_ports', 'inet_service', ports(outbound.excludePorts)) : []),
    ...(outbound && v4
      ? set('outbound_include_v4', 'ipv4_addr', byFamily(outbound.includeCidrs, 'ipv4'))
      : []),
    ...(outbound && v4
      ? set('outbound_exclude_v4', 'ipv4_addr', byFamily(outbound.excludeCidrs, 'ipv4'))
      : []),
    ...(outbound && v6
      ? set('outbound_include_v6', 'ipv6_addr', byFamily(outbound.includeCidrs, 'ipv6'))
      : []),
    ...(outbound && v6
      ? set('outbound_exclude_v6', 'ipv6_addr', byFamily(outbound.excludeCidrs, 'ipv6'))
      : []),
  ];

  const otherFamily = !v4 ? 'ipv4' : !v6 ? 'ipv6' : undefined;
  const prerouting = [
    '\t\ttype filter hook prerouting priority mangle; policy accept;',
    `\t\tmeta l4proto tcp socket transparent 1 socket wildcard 0 meta mark set ${mark} accept`,
  ];
  if (outbound) {
    prerouting.push(
      `\t\tiifname "lo" meta mark ${mark} ct direction original meta l4proto tcp tproxy to :${outbound.port} accept`,
      // nft's tproxy does not match when nothing listens on the port: without this the packet
      // would go on unproxied. Nothing serving means refused, never plaintext.
      `\t\tiifname "lo" meta mark ${mark} ct direction original meta l4proto tcp reject with tcp reset`,
    );
  }
  prerouting.push('\t\tiifname "lo" accept', '\t\tct direction reply accept');
  if (inbound) {
    if (otherFamily) prerouting.push(`\t\tmeta nfproto ${otherFamily} accept`);
    if (inbound.excludePorts.length > 0) prerouting.push('\t\ttcp dport @inbound_exclude_ports accept');
    if (inbound.includePorts.length > 0) prerouting.push('\t\ttcp dport != @inbound_include_ports accept');
    prerouting.push(
      `\t\tmeta l4proto tcp tproxy to :${inbound.port} meta mark set ${mark} accept`,
      // Reached only when no proxy listens (agent stopped, crashed, upgrading, workload not
      // served): refused in the kernel, never delivered to the app in plaintext.
      '\t\tmeta l4proto tcp reject with tcp reset',
    );
  }

  const output = [
    '\t\ttype route hook output priority mangle; policy accept;',
    `\t\tct direction reply ct mark ${bypass} meta mark set ${mark} accept`,
    `\t\tmeta mark ${bypass} ct mark set ${bypass} accept`,
  ];
  if (outbound) {
    output.push('\t\tmeta l4proto != tcp accept', '\t\tct direction reply accept', '\t\toifname "lo" accept');
    if (otherFamily) output.push(`\t\tmeta nfproto ${otherFamily} accept`);
    if (policy.bypass.uid !== undefined) output.push(`\t\tmeta skuid ${policy.bypass.uid} accept`);
    if (policy.bypass.gid !== undefined) output.push(`\t\tmeta skgid ${policy.bypass.gid} accept`);
    for (const family of families) {
      const [proto, suffix] = family === 'ipv4' ? ['ip', 'v4'] : ['ip6', 'v6'];
      if (byFamily(outbound.excludeCidrs, family).length > 0)
        output.push(`\t\t${proto} daddr @outbound_exclude_${suffix} accept`);
      if (outbound.includeCidrs.length > 0) {
        output.push(
          byFamily(outbound.includeCidrs, family).length > 0
            ? `\t\t${proto} daddr != @outbound_include_${suffix} accept`
            : `\t\tmeta nfproto ${family} accept`,
        );
      }
    }
    if (outbound.excludePorts.length > 0) output.push('\t\ttcp dport @outbound_exclude_ports accept');
    if (outbound.includePorts.length > 0) output.push('\t\ttcp dport != @outbound_include_ports accept');
    output.push(`\t\tmeta mark set ${mark}`);
  }

  return [
    ...header,
    `table inet ${TABLE_NAME}`,
    `delete table inet ${TABLE_NAME}`,
    `table inet ${TABLE_NAME} {`,
    `\tcomment "${policyComment(policy)}"`,
    '',
    ...sets,
    '\tchain prerouting {',
    ...prerouting,
    '\t}',
    '',
    '\tchain output {',
    ...output,
    '\t}',
    '}',
    '',
  ].join('\n');
}
