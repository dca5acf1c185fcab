import { type ChildProcess, spawn } from 'node:child_process';

/** A process the bench started, with the pid whose CPU and memory it measures. */
export interface Started {
  name: string;
  child: ChildProcess;
  pid: number;
  output: string;
}

/**
 * Starts a process and resolves when its output matches `ready` (or after `settleMs` when no
 * pattern is given, for programs that print nothing). Rejects if it exits first.
 */
export function start(
  name: string,
  command: string,
  args: string[],
  ready?: RegExp,
  settleMs = 300,
): Promise<Started> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const started: Started = { name, child, pid: child.pid ?? -1, output: '' };
  const collect = (d: Buffer) => {
    started.output = (started.output + d.toString()).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => (ready ? reject(new Error(`${name} did not start:\n${started.output}`)) : resolve(started)),
      ready ? 15_000 : settleMs,
    );
    if (ready) {
      const check = () => {
        if (ready.test(started.output)) {
          clearTimeout(timer);
          resolve(started);
        }
      };
      child.stdout?.on('data', check);
      child.stderr?.on('data', check);
    }
    // 'close' (not 'exit'): by then the output is fully read, so the error says why.
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(
        new Error(`${name} exited (${code}): ${started.output.trim().split('\n').slice(-3).join(' | ')}`),
      );
    });
  });
}

/** Stops processes (SIGTERM, then SIGKILL after a second) and waits for them. */
export async function stopAll(processes: Started[]): Promise<void> {
  await Promise.all(
    processes.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const kill = setTimeout(() => child.kill('SIGKILL'), 1000);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}
