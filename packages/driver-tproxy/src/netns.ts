import { stat } from 'node:fs/promises';
import { type NetnsTarget, type Target, TargetNotFoundError } from '@switchyard/core';
import { type CommandResult, runCommand } from './run-command.js';

/** Where `ip netns add` keeps named namespaces. */
export const NETNS_RUN_DIR = '/run/netns';

/** The filesystem path of a network namespace target. */
export function netnsPath(target: NetnsTarget): string {
  if ('path' in target) return target.path;
  if ('name' in target) return `${NETNS_RUN_DIR}/${target.name}`;
  return `/proc/${target.pid}/ns/net`;
}

/** Resolves a target to its namespace path, checking that it exists. */
export async function existingNetns(target: Target): Promise<string> {
  const path = netnsPath(target as NetnsTarget);
  try {
    await stat(path);
  } catch {
    const hint =
      'name' in target
        ? `create it with "ip netns add ${String(target.name)}" or list them with "ip netns list"`
        : 'pid' in target
          ? 'is the process still running?'
          : 'check the path';
    throw new TargetNotFoundError(`network namespace ${path} does not exist; ${hint}`);
  }
  return path;
}

/** Runs a program inside the network namespace at `nsPath` (nsenter, so names, paths and pids all work). */
export async function runIn(
  nsPath: string,
  program: string,
  args: readonly string[],
  input?: string,
): Promise<CommandResult> {
  const r = await runCommand('nsenter', [`--net=${nsPath}`, '--', program, ...args], input);
  return r.code !== 0 && enterDenied(r) ? { ...r, stderr: `${r.stderr.trim()}; ${ROOT_HINT}` } : r;
}

/** What every "could not enter the namespace" message ends with. */
export const ROOT_HINT =
  'entering a network namespace needs root (CAP_SYS_ADMIN, and CAP_NET_ADMIN for the rules): run as root';

/** nsenter itself failed to enter the namespace (not the program inside it). */
export function enterDenied(r: CommandResult): boolean {
  return /^nsenter: .*(Operation not permitted|Permission denied)/m.test(r.stderr);
}
