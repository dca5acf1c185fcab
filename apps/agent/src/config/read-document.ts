import { readFile } from 'node:fs/promises';
import { InputInvalidError } from '@switchyard/core';
import { parseDocument } from 'yaml';

/**
 * Reads a YAML or JSON file (JSON is YAML, so one parser reads both).
 *
 * @throws InputInvalidError naming the file, and the line and column of a syntax error.
 */
export async function readDocument(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    const why = code === 'ENOENT' ? 'there is no such file' : (cause as Error).message;
    throw new InputInvalidError(`cannot read the ${what} ${path}: ${why}`, { cause });
  }
  return parseText(text, `${what} ${path}`);
}

/** Parses YAML or JSON text. @throws InputInvalidError with the line and column of a syntax error. */
export function parseText(text: string, shown: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const at = first.linePos?.[0];
    const where = at ? ` at line ${at.line}, column ${at.col}` : '';
    throw new InputInvalidError(
      // The parser's message repeats the position and ends in a colon before its excerpt: drop both.
      `${shown} is not valid YAML or JSON${where}: ${(first.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '')}`,
    );
  }
  return doc.toJS() ?? {};
}
