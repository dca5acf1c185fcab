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

interface RouteJson {
  type?: string;
  dst?: string;
  dev?: string;
}

/** Which parts of Switchyard's policy routing a namespace holds, per family. */
export interface RoutingState {
  rule: boolean;
  route: boolean;
}

/** The `ip` family flag and the batch lines of a command (`ip -batch` takes no options per line). */
function batchOf(commands: string[][]): { flag: string; lines: string } {
  const flag = commands[0]?.[0] ?? '-4';
  return { flag, lines: commands.map((c) => `${c.slice(1).join(' ')}\n`).join('') };
}

/**
 * Reads the rules and the route table in one `ip` process (the capture of each new pod pays for
 * every process it starts): `ip -j -batch` prints one JSON array per line read.
 */
async function readFamily(nsPath: string, flag: string, table: number): Promise<[RuleJson[], RouteJson[]]> {
  const r = await runIn(nsPath, 'ip', ['-j', flag, '-batch', '-'], `rule show\nroute show table ${table}\n`);
  // A family with no routes at all (IPv6 disabled) lists as an error: what did list counts, the rest is empty.
  if (
    r.code !== 0 &&
    !/No such file or directory|not supported|Address family|table does not exist/i.test(r.stderr)
  )
    throw new ApplyFailedError(
      `"ip ${flag} rule show; ip ${flag} route show table ${table}" failed: ${r.stderr.trim()}`,
    );
  const arrays = r.stdout
    .split('\n')
    .filter((line) => line.trim().startsWith('['))
    .map((line) => JSON.parse(line) as unknown[]);
  return [(arrays[0] ?? []) as RuleJson[], (arrays[1] ?? []) as RouteJson[]];
}

/** Reads Switchyard's rule and route for one family from the kernel. */
export async function routingState(
  nsPath: string,
  family: IpFamily,
  s: RoutingSettings,
): Promise<RoutingState> {
  const [rules, routes] = await readFamily(nsPath, family === 'ipv4' ? '-4' : '-6', s.routeTable);
  const rule = rules.some(
    (r) =>
      r.priority === s.rulePriority &&
      Number(r.fwmark) === s.tproxyMark &&
      String(r.table) === String(s.routeTable),
  );
  const route = routes.some((r) => r.type === 'local' && r.dst === 'default' && r.dev === 'lo');
  return { rule, route };
}

/** Runs the commands (all of one family) in one `ip -batch` process; it stops at the first failure. */
async function ipBatch(nsPath: string, commands: string[][]): Promise<void> {
  if (commands.length === 0) return;
  const { flag, lines } = batchOf(commands);
  const r = await runIn(nsPath, 'ip', [flag, '-batch', '-'], lines);
  if (r.code !== 0)
    throw new ApplyFailedError(
      `"ip ${flag} -batch" (${lines.trim().replaceAll('\n', '; ')}) failed: ${r.stderr.trim()}`,
    );
}

/** Adds what is missing for `family`; returns what it added, so a failed apply can take it back. */
export async function addRouting(
  nsPath: string,
  family: IpFamily,
  s: RoutingSettings,
): Promise<RoutingState> {
  const state = await routingState(nsPath, family, s);
  const cmds = routingCommands(family, s);
  const added = { rule: !state.rule, route: !state.route };
  try {
    await ipBatch(nsPath, [...(added.route ? [cmds.route] : []), ...(added.rule ? [cmds.rule] : [])]);
  } catch (error) {
    // the batch stops at its first failure: take back whichever part did go in
    await deleteRouting(nsPath, family, s).catch(() => {});
    throw error;
  }
  return added;
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
  await ipBatch(nsPath, [
    ...(present.rule ? [cmds.rule.map((w) => (w === 'add' ? 'del' : w))] : []),
    ...(present.route ? [cmds.route.map((w) => (w === 'replace' ? 'del' : w))] : []),
  ]);
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
