import {
  type IpFamily,
  type NormalizedPolicy,
  normalizePolicy,
  type PortRange,
  parseCidr,
  parsePortSpec,
} from '@switchyard/core';

/** Elements of every named set in an `nft list table` listing, by set name (elements may wrap lines). */
function setElements(listing: string): Map<string, string[]> {
  const sets = new Map<string, string[]>();
  for (const m of listing.matchAll(/^\tset (\w+) \{([\s\S]*?)^\t\}/gm)) {
    const body = m[2] ?? '';
    const elements = /elements = \{([^}]*)\}/.exec(body)?.[1] ?? '';
    sets.set(
      m[1] ?? '',
      elements
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean),
    );
  }
  return sets;
}

function portRanges(elements: string[] | undefined): PortRange[] {
  return (elements ?? []).map((e) => {
    const r = parsePortSpec(e);
    if (typeof r === 'string') throw new Error(`unexpected port element "${e}" in the switchyard table`);
    return r;
  });
}

function cidrs(elements: string[] | undefined): string[] {
  return (elements ?? []).map((e) => {
    const c = parseCidr(e);
    if (!c.ok) throw new Error(`unexpected address element "${e}" in the switchyard table`);
    return c.text;
  });
}

/**
 * Rebuilds the policy held by a namespace from `nft list table inet switchyard`: the scalar fields
 * from the table's comment, the lists from its named sets. Returns undefined when the table was
 * not written by Switchyard (no `swy1` comment).
 */
export function policyFromListing(listing: string): NormalizedPolicy | undefined {
  const comment = /^\tcomment "(swy1 [^"]*)"$/m.exec(listing)?.[1];
  if (!comment) return undefined;
  const fields = new Map(
    comment
      .split(' ')
      .slice(1)
      .map((kv) => kv.split('=') as [string, string]),
  );
  const num = (key: string) => (fields.has(key) ? Number(fields.get(key)) : undefined);
  const sets = setElements(listing);
  const families = (fields.get('f') ?? '').split(',').map((f) => `ipv${f}` as IpFamily);
  const policy: Record<string, unknown> = {
    id: fields.get('id'),
    families,
    priority: num('prio'),
    bypass: { mark: num('mark'), uid: num('uid'), gid: num('gid') },
  };
  if (fields.has('in')) {
    policy.inbound = {
      port: num('in'),
      includePorts: portRanges(sets.get('inbound_include_ports')),
      excludePorts: portRanges(sets.get('inbound_exclude_ports')),
    };
  }
  if (fields.has('out')) {
    policy.outbound = {
      port: num('out'),
      includeCidrs: [...cidrs(sets.get('outbound_include_v4')), ...cidrs(sets.get('outbound_include_v6'))],
      excludeCidrs: [...cidrs(sets.get('outbound_exclude_v4')), ...cidrs(sets.get('outbound_exclude_v6'))],
      includePorts: portRanges(sets.get('outbound_include_ports')),
      excludePorts: portRanges(sets.get('outbound_exclude_ports')),
    };
  }
  // JSON drops the undefined bypass fields; normalizing gives the exact shape `apply` was given.
  return normalizePolicy(JSON.parse(JSON.stringify(policy)));
}
