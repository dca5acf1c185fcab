import { isIP } from 'node:net';
import { InputInvalidError, parseCidr, quoteInput } from '@switchyard/core';

/**
 * A whole-number flag value (decimal, or 0x hex) within bounds.
 *
 * @throws InputInvalidError naming the flag, quoting the value, and giving the range.
 */
export function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const n = /^0x[0-9a-f]+$/i.test(text)
    ? Number.parseInt(text, 16)
    : /^\d+$/.test(text)
      ? Number(text)
      : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new InputInvalidError(`${flag} ${quoteInput(text)}: expected a whole number from ${min} to ${max}`);
  return n;
}

/** A port flag: `undefined` when absent, `fallback` when given without a value (`--inbound-port`). */
export function portFlag(
  flag: string,
  value: string | boolean | undefined,
  fallback: number,
): number | undefined {
  if (value === undefined) return undefined;
  return value === true ? fallback : wholeNumber(flag, String(value), 1, 65535);
}

/** A repeatable CIDR flag, canonical. @throws InputInvalidError naming the flag. */
export function cidrFlags(flag: string, list: readonly string[]): string[] {
  return list.map((c) => {
    const parsed = parseCidr(c);
    if (!parsed.ok) throw new InputInvalidError(`${flag} ${parsed.message}`);
    return parsed.text;
  });
}

/** An IP address flag (`--admin-host`). @throws InputInvalidError naming the flag. */
export function addressFlag(flag: string, text: string): string {
  if (isIP(text) === 0)
    throw new InputInvalidError(
      `${flag} ${quoteInput(text)}: expected an IP address such as 0.0.0.0, 127.0.0.1 or ::`,
    );
  return text;
}
