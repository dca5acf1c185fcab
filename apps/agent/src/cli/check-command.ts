import { preflight } from '../check/preflight.js';
import type { AgentIo } from './agent-io.js';
import { EXIT } from './exit-codes.js';

/** Prints the preflight checks; exit 1 when one that blocks failed. */
export async function checkCommand(
  configPath: string,
  options: { json?: boolean },
  io: AgentIo,
): Promise<number> {
  const results = await preflight(configPath);
  const blocked = results.some((r) => !r.ok && r.blocking);
  if (options.json) io.stdout(`${JSON.stringify({ ok: !blocked, checks: results }, null, 2)}\n`);
  else {
    for (const r of results) {
      io.stdout(`${r.ok ? '✔' : r.blocking ? '✘' : '!'} ${r.name}: ${r.message}\n`);
      if (!r.ok && r.fix) io.stdout(`    fix: ${r.fix}\n`);
    }
    io.stdout(
      blocked ? 'Something blocks the agent; fix the lines marked ✘.\n' : 'The agent can run here.\n',
    );
  }
  return blocked ? EXIT.failure : EXIT.ok;
}
