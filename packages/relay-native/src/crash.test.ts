import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const addonPath = fileURLToPath(new URL('../build/Release/switchyard_relay.node', import.meta.url));

/** A node process with an engine of two threads that runs `then` and says if it is still alive 5 s later. */
const script = (then: string) => `
  const addon = require(${JSON.stringify(addonPath)});
  const engine = addon.createEngine({ threads: 2 }, () => {});
  addon.setRef(engine, true);
  ${then}
  setTimeout(() => { console.log('still alive'); process.exit(0); }, 5000);
`;
const env = () => {
  const e = { ...process.env };
  delete e.LD_PRELOAD; // the production build, whatever build the suite runs
  return e;
};

describe('a crash on an engine thread', () => {
  it('stops the process with a reason on stderr, never silently', () => {
    const child = spawnSync(process.execPath, ['-e', script('addon.crashForTesting(engine, 0);')], {
      env: env(),
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.stdout).not.toContain('still alive');
    expect(child.stderr).toMatch(/switchyard relay-native: engine thread 0 crashed with Segmentation fault/);
    expect(child.signal).toBe('SIGSEGV');
  });

  // A signal raised on the thread itself has no faulting instruction to run again: returning from
  // the handler would leave the process running after it said it stops.
  it.each([
    ['SIGBUS', 7, 'Bus error'],
    ['SIGFPE', 8, 'Floating point exception'],
    ['SIGILL', 4, 'Illegal instruction'],
    ['SIGABRT', 6, 'Aborted'],
  ])('%s raised on an engine thread says the process stops, and it does', (name, signo, text) => {
    const child = spawnSync(process.execPath, ['-e', script(`addon.crashForTesting(engine, ${signo});`)], {
      env: env(),
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.stderr).toContain(`engine thread 0 crashed with ${text} (sent by process`);
    expect(child.stderr).toContain('the process stops');
    expect(child.stdout).not.toContain('still alive');
    expect(child.signal).toBe(name);
  });

  it('SIGBUS sent from another process to one engine thread (tgkill) stops the process', async () => {
    const child = spawn(process.execPath, ['-e', script("console.log('ready');")], { env: env() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<NodeJS.Signals | null>((r) =>
      child.once('exit', (_code, signal) => r(signal)),
    );
    while (!stdout.includes('ready')) await new Promise((r) => setTimeout(r, 20));
    const pid = child.pid as number;
    const tid = readdirSync(`/proc/${pid}/task`).find(
      (t) => readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim() === 'swy-engine-1',
    );
    expect(tid, 'the engine thread is named').toBeDefined();
    // tgkill(2) from python's ctypes: a signal to that one thread, from outside the process
    const send = `import ctypes; ctypes.CDLL(None).syscall(234, ${pid}, ${tid}, 7)`;
    expect(spawnSync('/usr/bin/python3', ['-c', send]).status).toBe(0);
    expect(await exited).toBe('SIGBUS');
    expect(stdout).not.toContain('still alive');
    expect(stderr).toMatch(
      /engine thread 1 crashed with Bus error \(sent by process \d+\); the process stops/,
    );
  }, 20_000);
});
