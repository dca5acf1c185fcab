import type { AgentIo } from './agent-io.js';
import { reportAgentError } from './program.js';

/**
 * Keeps the command line's promises outside `run()`: a reader that closes the pipe early
 * (`switchyard-agent check | head -1`) ends a short command quietly instead of an EPIPE stack
 * trace, and anything thrown outside a command is reported as one line (or one JSON object).
 * A running agent writes nothing to stdout, and its log is not worth dying for: there an EPIPE
 * is ignored.
 */
const SHORT_COMMANDS = [
  'status',
  'check',
  'validate',
  'version',
  'log-level',
  'help',
  '--help',
  '-h',
  '--version',
  '-V',
];

export function guardAgentProcess(io: AgentIo, argv: readonly string[]): void {
  const json = argv.includes('--json');
  const runs = !argv.some((a) => SHORT_COMMANDS.includes(a)) && !argv.includes('--uninstall');
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      if (!runs) process.exit(process.exitCode ?? 0);
    });
  if (runs) return; // a crash of the running agent keeps its stack trace: that is a bug to report
  const fatal = (error: unknown) => {
    process.exitCode = reportAgentError(io, error, json);
    process.exit();
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}
