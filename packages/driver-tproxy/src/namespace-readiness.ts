import { ApplyFailedError, type IpFamily, PolicyUnsupportedError } from '@switchyard/core';
import { enterDenied, runIn } from './netns.js';

const IPV6_DISABLED = 'net.ipv6.conf.all.disable_ipv6';

/**
 * The IP families a namespace can route. IPv6 is missing when the kernel has no IPv6 at all or
 * the namespace turned it off (`net.ipv6.conf.all.disable_ipv6 = 1`); its rules would then fail.
 */
export async function namespaceFamilies(nsPath: string): Promise<IpFamily[]> {
  const r = await runIn(nsPath, 'cat', [`/proc/sys/${IPV6_DISABLED.replaceAll('.', '/')}`]);
  // Not being let in says nothing about IPv6: say why instead of "IPv6 is disabled".
  if (r.code !== 0 && enterDenied(r))
    throw new ApplyFailedError(`cannot look inside ${nsPath}: ${r.stderr.trim()}`);
  const ipv6 = r.code === 0 && r.stdout.trim() === '0';
  return ipv6 ? ['ipv4', 'ipv6'] : ['ipv4'];
}

/**
 * Refuses a policy for a family the namespace cannot route, naming both ways out, so `plan` and
 * `apply` say it before anything is written instead of failing half-way in `ip`.
 *
 * @throws PolicyUnsupportedError when the policy asks for IPv6 and the namespace has none.
 */
export async function assertFamiliesRoutable(nsPath: string, families: readonly IpFamily[]): Promise<void> {
  const available = await namespaceFamilies(nsPath);
  if (families.includes('ipv6') && !available.includes('ipv6')) {
    throw new PolicyUnsupportedError(
      `IPv6 is disabled in ${nsPath} (${IPV6_DISABLED} is not 0), but the policy captures IPv6; capture IPv4 only (--ipv4, or "families": ["ipv4"]), or enable IPv6 there (sysctl -w ${IPV6_DISABLED}=0 inside the namespace)`,
    );
  }
}

/**
 * Brings the namespace's loopback up when it is down, as it is in a namespace fresh from
 * `ip netns add`: the local route TPROXY needs ("local default dev lo") cannot use a down device.
 */
export async function ensureLoopbackUp(nsPath: string): Promise<void> {
  // setting an up device up changes nothing, and one process is cheaper than asking first
  const up = await runIn(nsPath, 'ip', ['link', 'set', 'lo', 'up']);
  if (up.code !== 0)
    throw new ApplyFailedError(
      `the loopback device in ${nsPath} is down and could not be brought up ("ip link set lo up": ${up.stderr.trim()}); the capture's local route needs it`,
    );
}
