import { InputInvalidError, type RedirectionPolicy } from '@switchyard/core';
import { wholeNumber } from './flag-values.js';

/** The `redirect` flags that describe a policy without a file. */
export interface PolicyFlags {
  id?: string;
  inboundPort?: string | boolean;
  outboundPort?: string | boolean;
  excludePort: string[];
  excludeCidr: string[];
  bypassMark?: string;
  bypassUid?: string;
  bypassGid?: string;
  ipv4?: boolean;
  ipv6?: boolean;
}

/** Numbers the policy checks again with its own ranges; here they only have to be numbers. */
const number = (flag: string, text: string) => wholeNumber(flag, text, 0, 0xffffffff);

/** True when any flag that describes a policy was given. */
export function hasPolicyFlags(f: PolicyFlags): boolean {
  return (
    f.inboundPort !== undefined ||
    f.outboundPort !== undefined ||
    f.excludePort.length > 0 ||
    f.excludeCidr.length > 0 ||
    f.bypassMark !== undefined ||
    f.bypassUid !== undefined ||
    f.bypassGid !== undefined ||
    f.ipv4 === true ||
    f.ipv6 === true ||
    f.id !== undefined
  );
}

/**
 * Builds a policy document from flags; validation happens later with the policy's own rules, so
 * flag and file mistakes read the same. `--inbound-port` / `--outbound-port` without a value use
 * the default ports; `--exclude-port` applies to both directions.
 */
export function policyFromFlags(f: PolicyFlags): RedirectionPolicy {
  if (f.inboundPort === undefined && f.outboundPort === undefined) {
    throw new InputInvalidError(
      'say what to capture: --inbound-port [PORT] and/or --outbound-port [PORT] (default ports 15006 and 15001), or --policy FILE',
    );
  }
  if (f.excludeCidr.length > 0 && f.outboundPort === undefined)
    throw new InputInvalidError(
      '--exclude-cidr only applies to outbound capture; add --outbound-port [PORT], or drop --exclude-cidr',
    );
  const ports = f.excludePort.map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  const policy: RedirectionPolicy = {};
  if (f.id !== undefined) policy.id = f.id;
  if (f.ipv4 || f.ipv6)
    policy.families = [...(f.ipv4 ? (['ipv4'] as const) : []), ...(f.ipv6 ? (['ipv6'] as const) : [])];
  if (f.inboundPort !== undefined) {
    policy.inbound = {};
    if (typeof f.inboundPort === 'string')
      policy.inbound.port = wholeNumber('--inbound-port', f.inboundPort, 1, 65535);
    if (ports.length > 0) policy.inbound.excludePorts = ports;
  }
  if (f.outboundPort !== undefined) {
    policy.outbound = {};
    if (typeof f.outboundPort === 'string')
      policy.outbound.port = wholeNumber('--outbound-port', f.outboundPort, 1, 65535);
    if (ports.length > 0) policy.outbound.excludePorts = ports;
    if (f.excludeCidr.length > 0) policy.outbound.excludeCidrs = f.excludeCidr;
  }
  const bypass: NonNullable<RedirectionPolicy['bypass']> = {};
  if (f.bypassMark !== undefined) bypass.mark = number('--bypass-mark', f.bypassMark);
  if (f.bypassUid !== undefined) bypass.uid = number('--bypass-uid', f.bypassUid);
  if (f.bypassGid !== undefined) bypass.gid = number('--bypass-gid', f.bypassGid);
  if (Object.keys(bypass).length > 0) policy.bypass = bypass;
  return policy;
}
