import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AgentStatus } from '../agent.js';

/** The built `switchyard-agent` (tests that kill the process need a real one). */
export const AGENT_BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

/** A `switchyard-agent` child process. */
export interface AgentProcess {
  child: ChildProcess;
  /** Everything it wrote so far (JSON log lines on stderr, stdout). */
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** Resolves once a line matching `pattern` was written; rejects on exit or after `ms` (default 60 s: start-up on a loaded machine). */
  waitFor(pattern: RegExp, ms?: number): Promise<void>;
}

/** Starts `switchyard-agent ...args`; `env` is added to this process's environment. */
export function startAgentProcess(args: string[], env: NodeJS.ProcessEnv = {}): AgentProcess {
  const child = spawn(process.execPath, [AGENT_BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const waitFor = (pattern: RegExp, ms = 60_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`no ${pattern} within ${ms} ms:\n${output}`)), ms);
      const check = () => pattern.test(output) && done();
      const gone = () => done(new Error(`the agent exited before ${pattern}:\n${output}`));
      const done = (error?: Error) => {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        child.stderr?.off('data', check);
        child.off('exit', gone);
        error ? reject(error) : resolve();
      };
      child.stdout?.on('data', check);
      child.stderr?.on('data', check);
      child.once('exit', gone);
      check();
    });
  return { child, output: () => output, exited, waitFor };
}

/** The running agent's `/status`. */
export async function agentStatus(adminPort: number): Promise<AgentStatus> {
  const response = await fetch(`http://127.0.0.1:${adminPort}/status`, { signal: AbortSignal.timeout(5000) });
  return (await response.json()) as AgentStatus;
}
