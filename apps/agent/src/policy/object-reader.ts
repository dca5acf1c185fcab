/** Reads fields of an untrusted object, collecting every problem with its field path. */
export class ObjectReader {
  readonly problems: string[] = [];

  /** An object at `path`, or undefined when absent (a problem when it is something else). */
  object(value: unknown, path: string): Record<string, unknown> | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    this.problems.push(`${path}: expected an object`);
    return undefined;
  }

  /** A list of objects at `path` (empty when absent). */
  objects(value: unknown, path: string): { value: Record<string, unknown>; path: string }[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.problems.push(`${path}: expected a list`);
      return [];
    }
    return value.flatMap((v, i) => {
      const o = this.object(v, `${path}[${i}]`);
      return o ? [{ value: o, path: `${path}[${i}]` }] : [];
    });
  }

  /** A list of strings at `path` (empty when absent). */
  strings(value: unknown, path: string): string[] {
    if (value === undefined || value === null) return [];
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
    this.problems.push(`${path}: expected a list of strings`);
    return [];
  }

  /** A string at `path`, or undefined when absent. */
  string(value: unknown, path: string): string | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value;
    this.problems.push(`${path}: expected a string`);
    return undefined;
  }

  /** A map of strings to strings at `path` (labels). */
  labels(value: unknown, path: string): Record<string, string> | undefined {
    const o = this.object(value, path);
    if (!o) return undefined;
    for (const [k, v] of Object.entries(o))
      if (typeof v !== 'string') this.problems.push(`${path}.${k}: expected a string`);
    return o as Record<string, string>;
  }

  /** Flags every key of `o` outside `known`. */
  known(o: Record<string, unknown>, path: string, known: readonly string[]): void {
    for (const key of Object.keys(o))
      if (!known.includes(key))
        this.problems.push(`${path}.${key}: unknown field; the fields here are ${known.join(', ')}`);
  }
}
