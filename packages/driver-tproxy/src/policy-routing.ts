import { ApplyFailedError, type IpFamily } from '@switchyard/core';
import { runIn } from './netns.js';
import { routingCommands } from './render-ruleset.js';
import type { RoutingSettings } from './settings.js';

const FAMILIES: readonly IpFamily[] = ['ipv4', 'ipv6'];

interface RuleJson {
  priority?: number;
  fwmark?: string;
  table?: string;
}

/** Which parts of Switchyard's policy routing a namespace holds, per family. */
export interface RoutingState {
  rule: boolean;
  route: boolean;
}

async function ipJson(nsPath: string, args: string[]): Promise<unknown[]> {
  const r = await runIn(nsPath, 'ip', ['-j', ...args]);
  if (r.code !== 0) {
    // A family with no routes at all (IPv6 disabled) lists as an error; treat it as empty.
    if (/No such file or directory|not supported|Address family|table does not exist/i.test(r.stderr))
      return [];
    throw new ApplyFailedError(`"ip ${args.join(' ')}" failed: ${r.stderr.trim()}`);
  }
  return r.stdout.trim() ? (JSON.parse(r.stdout) as unknown[]) : [];
}

/** Reads Switchyard's rule and route for one family from the kernel. */
export async function routingState(
  nsPath: string,
  family: IpFamily,
  s: RoutingSettings,
): Promise<RoutingState> {
  const flag = family === 'ipv4' ? '-4' : '-6';
  const rules = (await ipJson(nsPath, [flag, 'rule', 'show'])) as RuleJson[];
  const rule = rules.some(
    (r) =>
      r.priority === s.rulePriority &&
      Number(r.fwmark) === s.tproxyMark &&
      String(r.table) === String(s.routeTable),
  );
  const routes = (await ipJson(nsPath, [flag, 'route', 'show', 'table', String(s.routeTable)])) as {
    type?: string;
    dst?: string;
    dev?: string;
  }[];
  const route = routes.some((r) => r.type === 'local' && r.dst === 'default' && r.dev === 'lo');
  return { rule, route };
}

async function ip(nsPath: string, args: string[]): Promise<void> {
  const r = await runIn(nsPath, 'ip', args);
  if (r.code !== 0) throw new ApplyFailedError(`"ip ${args.join(' ')}" failed: ${r.stderr.trim()}`);
}

/** Adds what is missing for `family`; returns what it added, so a failed apply can take it back. */
export async function addRouting(
  nsPath: string,
  family: IpFamily,
  s: RoutingSettings,
): Promise<RoutingState> {
  const state = await routingState(nsPath, family, s);
  const cmds = routingCommands(family, s);
  if (!state.route) await ip(nsPath, cmds.route);
  if (!state.rule) await ip(nsPath, cmds.rule);
  return { rule: !state.rule, route: !state.route };
}

/** Deletes the given parts of Switchyard's routing for `family` (default: whatever of it is present). */
export async function deleteRouting(
  nsPath: string,
  family: IpFamily,
  s: RoutingSettings,
  parts?: RoutingState,
): Promise<void> {
  const present = parts ?? (await routingState(nsPath, family, s));
  const cmds = routingCommands(family, s);
  if (present.rule)
    await ip(
      nsPath,
      cmds.rule.map((w) => (w === 'add' ? 'del' : w)),
    );
  if (present.route)
    await ip(
      nsPath,
      cmds.route.map((w) => (w === 'replace' ? 'del' : w)),
    );
}

/** True when both families hold exactly the routing `families` needs (and no leftover for the other). */
export async function routingMatches(
  nsPath: string,
  families: readonly IpFamily[],
  s: RoutingSettings,
): Promise<boolean> {
  for (const family of FAMILIES) {
    const state = await routingState(nsPath, family, s);
    const wanted = families.includes(family);
    if (state.rule !== wanted || state.route !== wanted) return false;
  }
  return true;
}

export { FAMILIES };
