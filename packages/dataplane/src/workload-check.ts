import { parseCidr, WorkloadInvalidError } from '@switchyard/core';
import { canonicalAddress } from './identity.js';
import type { WorkloadSpec } from './workload-spec.js';

const port = (n: unknown) => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 65535;

/**
 * Checks a workload before anything opens: every problem at once, each naming its field.
 *
 * @throws WorkloadInvalidError
 */
export function checkWorkloadSpec(spec: WorkloadSpec): void {
  const problems: string[] = [];
  if (typeof spec.id !== 'string' || spec.id.trim() === '')
    problems.push('id: a non-empty string is required');
  if (!spec.carrier?.anonymous && !spec.identity?.current)
    problems.push('identity: a CertificateStore is required');
  if (typeof spec.carrier?.create !== 'function')
    problems.push('carrier: a carrier factory is required (mtlsCarrier(), hboneCarrier())');
  const { inbound, outbound, ports } = spec.policy ?? {};
  if (!inbound && !outbound && !ports) problems.push('policy: give inbound, outbound or carrier ports');
  if (inbound?.port !== undefined && !port(inbound.port))
    problems.push(`policy.inbound.port: ${inbound.port} is not a port (0-65535)`);
  if (outbound && !port(outbound.port))
    problems.push(`policy.outbound.port: ${outbound.port} is not a port (0-65535)`);
  for (const [name, p] of Object.entries(ports ?? {}))
    if (!port(p)) problems.push(`policy.ports.${name}: ${p} is not a port (0-65535)`);
  for (const p of inbound?.plaintextPorts ?? [])
    if (!port(p) || p === 0) problems.push(`policy.inbound.plaintextPorts: ${p} is not a port (1-65535)`);
  for (const [field, list] of [
    ['policy.outbound.meshCidrs', outbound?.meshCidrs],
    ['policy.inbound.plaintextSources', inbound?.plaintextSources],
  ] as const)
    for (const cidr of list ?? []) {
      const parsed = parseCidr(cidr);
      if (!parsed.ok) problems.push(`${field}: ${parsed.message}`);
    }
  for (const address of spec.addresses ?? [])
    if (!canonicalAddress(address))
      problems.push(`addresses: "${String(address).slice(0, 80)}" is not an IP address`);
  if (problems.length > 0)
    throw new WorkloadInvalidError(`workload ${String(spec.id)}: ${problems.join('; ')}`);
}
