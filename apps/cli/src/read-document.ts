import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InputInvalidError } from '@switchyard/core';
import { parseDocument } from 'yaml';

/**
 * Reads a JSON or YAML file (JSON is YAML, so one parser reads both) and returns its value.
 * `-` reads standard input.
 *
 * @throws InputInvalidError naming the file, and the line and column of a syntax error.
 */
export async function readDocument(file: string, cwd: string): Promise<unknown> {
  let text: string;
  const shown = file === '-' ? 'standard input' : file;
  try {
    text = file === '-' ? await readStdin() : await readFile(resolve(cwd, file), 'utf8');
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    const why =
      code === 'ENOENT'
        ? 'there is no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : (cause as Error).message;
    throw new InputInvalidError(`cannot read ${shown}: ${why}; give the path of a JSON or YAML policy file`, {
      cause,
    });
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const where = first.linePos?.[0]
      ? ` at line ${first.linePos[0].line}, column ${first.linePos[0].col}`
      : '';
    throw new InputInvalidError(`${shown} is not valid JSON or YAML${where}: ${yamlProblem(first.message)}`);
  }
  return doc.toJS();
}

/** The parser's message without the position it repeats and the colon before its excerpt. */
function yamlProblem(message: string): string {
  return (message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '');
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
