/** Where the command writes; injectable so commands run in-process in tests. */
export interface AgentIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
}

/** The real process's streams and environment. */
export function processIo(): AgentIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
  };
}
