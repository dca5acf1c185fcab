/**
 * Istio's string forms in a policy: `*` (any non-empty value), `*suffix`, `prefix*`, or an exact
 * value — what istiod hands ztunnel for principals and namespaces.
 */
export type StringMatch =
  | { kind: 'presence' }
  | { kind: 'prefix'; value: string }
  | { kind: 'suffix'; value: string }
  | { kind: 'exact'; value: string };

/** Reads one value as Istio does: `*` is presence, a leading `*` a suffix, a trailing `*` a prefix. */
export function stringMatch(value: string): StringMatch {
  if (value === '*') return { kind: 'presence' };
  if (value.startsWith('*')) return { kind: 'suffix', value: value.slice(1) };
  if (value.endsWith('*')) return { kind: 'prefix', value: value.slice(0, -1) };
  return { kind: 'exact', value };
}

/** Whether `check` matches (presence needs a non-empty value). */
export function matchesString(m: StringMatch, check: string): boolean {
  switch (m.kind) {
    case 'presence':
      return check !== '';
    case 'prefix':
      return check.startsWith(m.value);
    case 'suffix':
      return check.endsWith(m.value);
    case 'exact':
      return check === m.value;
  }
}

/**
 * A principal match against a peer's SPIFFE ID. Istio writes principals without the scheme
 * (`cluster.local/ns/web/sa/api`), so the ID's `spiffe://` is stripped first; a peer without an
 * identity (plain TCP) matches no principal, not even `*`.
 */
export function matchesPrincipal(m: StringMatch, spiffeId: string | undefined): boolean {
  if (!spiffeId?.startsWith('spiffe://')) return false;
  return matchesString(m, spiffeId.slice('spiffe://'.length));
}

/** The match as the policy wrote it, for explanations. */
export function formatStringMatch(m: StringMatch): string {
  switch (m.kind) {
    case 'presence':
      return '*';
    case 'prefix':
      return `${m.value}*`;
    case 'suffix':
      return `*${m.value}`;
    case 'exact':
      return m.value;
  }
}
