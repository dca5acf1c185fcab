/** The most characters of a user's input that a message quotes back. */
export const QUOTE_LIMIT = 80;

/**
 * Quotes a value the user gave for an error message: JSON text (so whitespace and control
 * characters show), cut to {@link QUOTE_LIMIT} characters with "…" so a pasted file or a huge
 * value never floods the terminal.
 *
 * @example
 * ```ts
 * quoteInput('banana'); // '"banana"'
 * ```
 */
export function quoteInput(value: unknown, limit: number = QUOTE_LIMIT): string {
  const text = value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value));
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
