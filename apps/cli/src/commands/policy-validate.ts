import { validatePolicy } from '@switchyard/core';
import { EXIT } from '../exit-codes.js';
import { type CliIo, printJson } from '../io.js';
import { readDocument } from '../read-document.js';

/** `switchyard policy validate FILE`: every problem with its field path (exit 2), or the normalized policy. */
export async function policyValidateCommand(file: string, io: CliIo, json: boolean): Promise<number> {
  const result = validatePolicy(await readDocument(file, io.cwd));
  if (json) {
    printJson(
      io,
      result.ok
        ? { file, valid: true, policy: result.policy }
        : { file, valid: false, issues: result.issues },
    );
    return result.ok ? EXIT.ok : EXIT.input;
  }
  if (!result.ok) {
    io.stderr(`${file}: ${result.issues.length} problem${result.issues.length === 1 ? '' : 's'}\n`);
    for (const issue of result.issues) io.stderr(`  ${issue.path || '(policy)'}: ${issue.message}\n`);
    return EXIT.input;
  }
  const p = result.policy;
  io.stdout(`${file}: valid policy "${p.id}" (${p.protocol}, ${p.families.join(' + ')})\n`);
  if (p.inbound) io.stdout(`  inbound  → port ${p.inbound.port}\n`);
  if (p.outbound) io.stdout(`  outbound → port ${p.outbound.port}\n`);
  return EXIT.ok;
}
