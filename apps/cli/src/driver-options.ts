import { InputInvalidError, quoteInput } from '@switchyard/core';
import { readDocument } from './read-document.js';

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Parses one `--driver-option KEY=VALUE`. The value is read as JSON when it is JSON (`15`,
 * `true`, `["a"]`, `{"x":1}`), otherwise it is the string as written, so `dir=/tmp/x` needs no quotes.
 *
 * @throws InputInvalidError when there is no `=` or the key is empty.
 */
export function parseDriverOption(text: string): [string, unknown] {
  const at = text.indexOf('=');
  const key = at > 0 ? text.slice(0, at) : '';
  if (!KEY.test(key))
    throw new InputInvalidError(
      `--driver-option ${quoteInput(text)}: write KEY=VALUE, e.g. --driver-option directory=/var/lib/policies`,
    );
  const raw = text.slice(at + 1);
  try {
    return [key, JSON.parse(raw)];
  } catch {
    return [key, raw];
  }
}

/**
 * The options handed to the driver a command creates: the `--driver-config` file (a JSON or YAML
 * object), then each `--driver-option`, later ones winning.
 *
 * @throws InputInvalidError when the file is unreadable or not an object, or an option is malformed.
 */
export async function driverOptions(
  flags: readonly string[],
  configFile: string | undefined,
  cwd: string,
): Promise<Record<string, unknown>> {
  let fromFile: Record<string, unknown> = {};
  if (configFile !== undefined) {
    const doc = await readDocument(configFile, cwd);
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
      throw new InputInvalidError(
        `--driver-config ${configFile} must hold an object of driver options, e.g. {"directory": "/var/lib/policies"}`,
      );
    fromFile = doc as Record<string, unknown>;
  }
  return { ...fromFile, ...Object.fromEntries(flags.map(parseDriverOption)) };
}
