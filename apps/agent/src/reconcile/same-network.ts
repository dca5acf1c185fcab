import { stat } from 'node:fs/promises';
import { formatTarget, type Target } from '@switchyard/core';

/**
 * What makes two targets the same network: a namespace's device and inode (one namespace has
 * several names — `/run/netns/cni-…`, `/proc/PID/ns/net` of each process in it), else the
 * target's text. Undefined when a namespace is gone.
 */
export async function networkIdentity(target: Target): Promise<string | undefined> {
  if (target.kind !== 'netns') return formatTarget(target);
  const path =
    'path' in target
      ? target.path
      : 'name' in target
        ? `/run/netns/${target.name}`
        : `/proc/${target.pid}/ns/net`;
  const s = await stat(path).catch(() => undefined);
  return s ? `netns:${s.dev}:${s.ino}` : undefined;
}

/** True when both targets name one live network. */
export async function sameNetwork(a: Target, b: Target): Promise<boolean> {
  if (formatTarget(a) === formatTarget(b)) return true;
  const [x, y] = await Promise.all([networkIdentity(a), networkIdentity(b)]);
  return x !== undefined && x === y;
}
