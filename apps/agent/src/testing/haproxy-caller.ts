import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why haproxy cannot be started here, or undefined when it can. */
export function haproxyUnavailable(): string | undefined {
  try {
    execFileSync('sh', ['-c', 'command -v haproxy'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'haproxy is missing (apt-get install haproxy; scripts/system-deps.sh installs it)';
  }
}

/** A running haproxy that answers every HTTP request with the caller it saw. */
export interface CallerEcho {
  address: string;
  port: number;
  stop(): Promise<void>;
}

/** Options of {@link startCallerEcho}. */
export interface CallerEchoOptions {
  address: string;
  port: number;
  /** Read a PROXY protocol v2 (or v1) header first, and take the caller from it. */
  acceptProxy: boolean;
  /** A network namespace (`ip netns` name) to run in. */
  netns?: string;
}

/**
 * Starts haproxy as an independent metadata server: its answer is `caller ADDRESS:PORT asked
 * ADDRESS:PORT` — the client haproxy saw (from the TCP connection, or from a PROXY header with
 * `acceptProxy`, where a connection without one is refused) and where the client was going.
 */
export async function startCallerEcho(o: CallerEchoOptions): Promise<CallerEcho> {
  const dir = mkdtempSync(join(tmpdir(), 'swy-haproxy-'));
  const config = [
    'global',
    '  maxconn 200',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 10s',
    '  timeout server 10s',
    'frontend metadata',
    `  bind ${o.address}:${o.port}${o.acceptProxy ? ' accept-proxy' : ''}`,
    '  http-request return status 200 content-type text/plain lf-string "caller %[src]:%[src_port] asked %[dst]:%[dst_port]\\n"',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'haproxy.cfg'), config);
  const command = ['haproxy', '-db', '-f', join(dir, 'haproxy.cfg')];
  const argv = o.netns ? ['ip', 'netns', 'exec', o.netns, ...command] : command;
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await listening(o, () => child.exitCode !== null);
  } catch (error) {
    await stop();
    throw new Error(`haproxy did not start: ${(error as Error).message}\n${stderr}`);
  }
  return { address: o.address, port: o.port, stop };
}

/** Waits until haproxy accepts connections (from its own namespace, when it has one). */
async function listening(o: CallerEchoOptions, exited: () => boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (exited()) throw new Error('it exited');
    if (o.netns) {
      try {
        execFileSync('ip', [
          'netns',
          'exec',
          o.netns,
          'sh',
          '-c',
          `ss -Hltn 'sport = :${o.port}' | grep -q .`,
        ]);
        return;
      } catch {
        // not yet
      }
    } else if (await accepts(o.address, o.port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${o.address}:${o.port} after 5 s`);
}

function accepts(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, address);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
