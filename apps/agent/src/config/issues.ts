import { InputInvalidError, isPort, parseCidr } from '@switchyard/core';

/** One problem in a document, at a field path such as `source.path` or `workloads[1].network`. */
export interface ConfigIssue {
  path: string;
  message: string;
}

type Json = Record<string, unknown>;

/**
 * Collects every problem of a document at once, each at its field path, the way core's
 * `validatePolicy` reports policies. Written by hand rather than with a schema library so messages
 * say what to write instead, in the project's one format.
 */
export class Issues {
  readonly list: ConfigIssue[] = [];

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  /** The value as an object, or `{}` after recording a problem (absent is fine when optional). */
  object(path: string, value: unknown, optional = true): Json {
    if (value === undefined && optional) return {};
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Json;
    this.add(path, `expected a map of fields, got ${describe(value)}`);
    return {};
  }

  /** Records fields that are not among `known` (a typo would otherwise be ignored silently). */
  unknown(path: string, value: Json, known: readonly string[]): void {
    for (const key of Object.keys(value))
      if (!known.includes(key))
        this.add(join(path, key), `unknown field; the fields here are ${known.join(', ')}`);
  }

  string(path: string, value: unknown, fallback: string): string;
  string(path: string, value: unknown, fallback?: undefined): string | undefined;
  string(path: string, value: unknown, fallback?: string): string | undefined {
    if (value === undefined) return fallback;
    if (typeof value === 'string' && value.trim() !== '') return value;
    this.add(path, `expected a non-empty string, got ${describe(value)}`);
    return fallback;
  }

  oneOf<T extends string>(path: string, value: unknown, choices: readonly T[], fallback: T): T {
    if (value === undefined) return fallback;
    if (choices.includes(value as T)) return value as T;
    this.add(path, `${describe(value)} is not one of ${choices.map((c) => `"${c}"`).join(', ')}`);
    return fallback;
  }

  boolean(path: string, value: unknown, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value === 'boolean') return value;
    this.add(path, `expected true or false, got ${describe(value)}`);
    return fallback;
  }

  /** A whole number in [min, max]. */
  integer(path: string, value: unknown, fallback: number, min: number, max: number): number {
    if (value === undefined) return fallback;
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
    this.add(path, `${describe(value)} is not a whole number from ${min} to ${max}`);
    return fallback;
  }

  port(path: string, value: unknown, fallback: number): number {
    if (value === undefined) return fallback;
    if (isPort(value)) return value as number;
    this.add(path, `${describe(value)} is not a port; use a whole number from 1 to 65535`);
    return fallback;
  }

  ports(path: string, value: unknown): number[] {
    return this.array(path, value)
      .map((p, i) => this.port(`${path}[${i}]`, p, 0))
      .filter((p) => p > 0);
  }

  array(path: string, value: unknown): unknown[] {
    if (value === undefined) return [];
    if (Array.isArray(value)) return value;
    this.add(path, `expected a list, got ${describe(value)}`);
    return [];
  }

  cidrs(path: string, value: unknown): string[] {
    return this.array(path, value).flatMap((c, i) => {
      const parsed = typeof c === 'string' ? parseCidr(c) : undefined;
      if (parsed?.ok) return [parsed.text];
      this.add(
        `${path}[${i}]`,
        parsed ? parsed.message : `${describe(c)} is not a CIDR; write it like "10.0.0.0/8"`,
      );
      return [];
    });
  }

  /** Throws InputInvalidError listing every problem, when there is one. */
  throwIfAny(what: string): void {
    if (this.list.length === 0) return;
    const n = this.list.length;
    throw new InputInvalidError(
      `${what} has ${n} problem${n === 1 ? '' : 's'}; fix ${n === 1 ? 'it' : 'them'} and try again:\n${this.list.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}`,
    );
  }
}

/** `parent.key`, or `key` at the top. */
export function join(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return JSON.stringify(value);
}
