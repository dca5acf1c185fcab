import { InputInvalidError } from '@switchyard/core';

/** A Kubernetes-style SPIFFE workload identity: `spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>`. */
export interface SpiffeId {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
const SEGMENT = /^[A-Za-z0-9._-]{1,253}$/;

/** Formats a {@link SpiffeId} as its URI. */
export function formatSpiffeId(id: SpiffeId): string {
  return `spiffe://${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/** Parses a workload SPIFFE URI, or returns undefined when it is not one (wrong scheme or path shape). */
export function parseSpiffeId(uri: string): SpiffeId | undefined {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(uri);
  if (!m) return undefined;
  const [, trustDomain = '', namespace = '', serviceAccount = ''] = m;
  if (!TRUST_DOMAIN.test(trustDomain) || !SEGMENT.test(namespace) || !SEGMENT.test(serviceAccount))
    return undefined;
  return { trustDomain, namespace, serviceAccount };
}

/** Checks the parts of an identity a user typed; throws InputInvalidError naming the bad part. */
export function checkIdentityParts(id: SpiffeId): SpiffeId {
  if (!TRUST_DOMAIN.test(id.trustDomain)) {
    throw new InputInvalidError(
      `trust domain "${id.trustDomain}" is not valid; use lowercase letters, digits, ".", "-" or "_" (e.g. cluster.local)`,
    );
  }
  for (const [what, value] of [
    ['namespace', id.namespace],
    ['service account', id.serviceAccount],
  ] as const) {
    if (!SEGMENT.test(value))
      throw new InputInvalidError(`${what} "${value}" is not valid; use letters, digits, ".", "-" or "_"`);
  }
  return id;
}

/**
 * The SPIFFE IDs in a certificate's subjectAltName, as Node reports it
 * (`"URI:spiffe://td/ns/a/sa/b, DNS:x"`). A workload certificate carries exactly one.
 */
export function spiffeIdsFromSan(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  // Node writes each entry as `TYPE:value`, separated by ", ", and JSON-quotes a value that holds
  // a comma or quote (`URI:"spiffe://x, URI:spiffe://y"`): read quoted values whole, so a crafted
  // URI cannot smuggle in a second identity.
  const ids: string[] = [];
  const entry = /\s*([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:,|$)/gy;
  for (let m = entry.exec(subjectAltName); m && m[0] !== ''; m = entry.exec(subjectAltName)) {
    const raw = m[2] as string;
    let value = raw;
    if (raw.startsWith('"')) {
      try {
        value = JSON.parse(raw) as string;
      } catch {
        continue;
      }
    }
    if (m[1] === 'URI' && value.startsWith('spiffe://')) ids.push(value);
  }
  return ids;
}
