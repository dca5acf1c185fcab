import { X509Certificate } from 'node:crypto';
import type { WorkloadCertificate } from '@switchyard/mesh';
import type { ConnectionReport } from './carrier.js';
import type { InboundPolicy, OutboundPolicy } from './workload-policy.js';
import type { WorkloadSpec } from './workload-spec.js';

/** One listener of a workload, for status. */
export interface ListenerStatus {
  role: string;
  address: string;
  port: number;
}

/** How many recent denials and refusals a workload keeps for introspection. */
export const RECENT_DENIALS = 20;

/** One certificate as introspection shows it: no key material, ever. */
export interface CertificateSummary {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  /** The SPIFFE ID in its SAN (the leaf only). */
  spiffeId?: string;
}

/** A denied or refused connection, kept for `config` (the last {@link RECENT_DENIALS}). */
export interface RecentDenial {
  time: string;
  direction: ConnectionReport['direction'];
  outcome: 'denied' | 'refused';
  code?: string;
  reason?: string;
  source?: string;
  destination?: string;
  peer?: string;
}

/**
 * What a workload runs with now (like `istioctl proxy-config`): its certificate and trust bundle,
 * its listeners, the inbound and outbound policy in force, and the denials it saw last.
 */
export interface WorkloadConfig {
  id: string;
  carrier: string;
  state: string;
  /** Its certificate; absent for a workload whose carrier needs no identity (a plain forwarder). */
  certificate?: CertificateSummary;
  trustBundle: CertificateSummary[];
  listeners: ListenerStatus[];
  inbound?: Omit<InboundPolicy, 'fixedDestination'> & { fixedDestination?: string };
  outbound?: Omit<OutboundPolicy, 'fixedDestination' | 'route'> & { fixedDestination?: string };
  recentDenials: RecentDenial[];
}

/** Summaries of every certificate in a PEM text (a chain or a bundle). */
export function summarizePem(pem: string): CertificateSummary[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => {
    const x = new X509Certificate(block);
    const spiffe = x.subjectAltName?.match(/URI:(spiffe:\/\/[^,\s]+)/)?.[1];
    return {
      subject: x.subject.replaceAll('\n', ', '),
      issuer: x.issuer.replaceAll('\n', ', '),
      serialNumber: x.serialNumber,
      notBefore: new Date(x.validFrom).toISOString(),
      notAfter: new Date(x.validTo).toISOString(),
      ...(spiffe ? { spiffeId: spiffe } : {}),
    };
  });
}

/** The config report of one workload from its spec, its state and what it recorded. */
export function workloadConfig(
  spec: WorkloadSpec,
  state: string,
  listeners: ListenerStatus[],
  certificate: WorkloadCertificate | undefined,
  denials: readonly RecentDenial[],
): WorkloadConfig {
  const leaf = certificate ? summarizePem(certificate.chain)[0] : undefined;
  const { inbound, outbound } = spec.policy;
  const at = (e?: { address: string; port: number }) =>
    e ? { fixedDestination: `${e.address}:${e.port}` } : {};
  return {
    id: spec.id,
    carrier: spec.carrier.name,
    state,
    ...(leaf && certificate ? { certificate: { ...leaf, spiffeId: certificate.spiffeId } } : {}),
    trustBundle: certificate ? summarizePem(certificate.bundle) : [],
    listeners,
    ...(inbound ? { inbound: { ...withoutFunctions(inbound), ...at(inbound.fixedDestination) } } : {}),
    ...(outbound ? { outbound: { ...withoutFunctions(outbound), ...at(outbound.fixedDestination) } } : {}),
    recentDenials: [...denials],
  };
}

/** The plain-data fields of a policy (a route function is not shown; a fixed destination is formatted). */
function withoutFunctions<T extends object>(policy: T): Omit<T, 'fixedDestination' | 'route'> {
  return Object.fromEntries(
    Object.entries(policy).filter(([k, v]) => typeof v !== 'function' && k !== 'fixedDestination'),
  ) as Omit<T, 'fixedDestination' | 'route'>;
}
