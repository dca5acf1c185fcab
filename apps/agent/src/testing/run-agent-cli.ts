import { run } from '../cli/program.js';

/** Runs `switchyard-agent ...argv` in this process; what it printed and its exit code. */
export async function agentCli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {} });
  return { code, stdout, stderr };
}
