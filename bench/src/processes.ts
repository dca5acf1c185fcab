import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** A process the bench started, with the pid whose CPU and memory it measures. */
export interface Started {
  name: string;
  child: ChildProcess;
  pid: number;
  output: string;
}

/** When a started process is ready: its output matches, or a port is listening. */
export type Readiness = RegExp | { listening: number };

/** The inodes of the sockets process `pid` holds open. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m?.[1]) inodes.add(m[1]);
      } catch {}
    }
  } catch {}
  return inodes;
}

/**
 * Whether process `pid` listens on TCP `port` in this network namespace: read from /proc (no
 * connection made, which a relay would pass on to its upstream), and its own socket, not another's.
 */
export function listensOn(pid: number, port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const owned = socketInodes(pid);
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let table = '';
    try {
      table = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    // Each line: sl local_address rem_address st … uid timeout inode; LISTEN is state 0A.
    for (const line of table.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] === '0A' && fields[1]?.endsWith(hex) && owned.has(fields[9] ?? '')) return true;
    }
  }
  return false;
}

/**
 * Starts a process and resolves when it is ready: its output matches `ready`, or the port of
 * `{ listening }` is listened on by the process (for programs that print nothing: haproxy, stunnel), or after `settleMs`
 * when neither is given. Rejects if it exits first, or is not ready within 15 s.
 */
export function start(
  name: string,
  command: string,
  args: string[],
  ready?: Readiness,
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
    let poll: NodeJS.Timeout | undefined;
    const settle = (error?: Error) => {
      clearTimeout(timer);
      clearInterval(poll);
      error ? reject(error) : resolve(started);
    };
    const timer = setTimeout(
      () => (ready ? settle(new Error(`${name} did not start:\n${started.output}`)) : settle()),
      ready ? 15_000 : settleMs,
    );
    if (ready instanceof RegExp) {
      const check = () => ready.test(started.output) && settle();
      child.stdout?.on('data', check);
      child.stderr?.on('data', check);
    } else if (ready) poll = setInterval(() => listensOn(started.pid, ready.listening) && settle(), 20);
    // 'close' (not 'exit'): by then the output is fully read, so the error says why.
    child.once('close', (code) =>
      settle(
        new Error(`${name} exited (${code}): ${started.output.trim().split('\n').slice(-3).join(' | ')}`),
      ),
    );
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

/**
 * Starts processes side by side (a pair's two proxies dial each other only once traffic flows):
 * all of them, or, when one fails, none (those that started are stopped) and its error.
 */
export async function startTogether<T extends Promise<Started>[]>(
  starts: [...T],
): Promise<{ [K in keyof T]: Started }> {
  const settled = await Promise.allSettled(starts);
  const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (!failed) return started as { [K in keyof T]: Started };
  await stopAll(started);
  throw failed.reason;
}
