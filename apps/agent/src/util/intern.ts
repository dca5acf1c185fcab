/**
 * One copy of each of a few recurring strings (namespaces, service accounts, SPIFFE IDs): tens of
 * thousands of pods name a few hundred of them, and every parsed object would otherwise hold its
 * own copy. The table only grows with the distinct values a cluster has.
 */
const table = new Map<string, string>();

/** The one copy of `value`. */
export function intern(value: string): string;
export function intern(value: string | undefined): string | undefined;
export function intern(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const known = table.get(value);
  if (known !== undefined) return known;
  table.set(value, value);
  return value;
}
