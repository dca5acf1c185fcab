import { readFile } from 'node:fs/promises';
import { expect } from 'vitest';
import type { AttackLab, Footprint, SteadyTally } from './attack-lab.js';
import { oneAttackAtATime } from './attack-lock.js';

/** Seconds each long attack is held, and each control run lasts. */
export const HOLD_SECONDS = 10;

/**
 * Below this, a ping's p50 is the machine's noise (a shared 2-core host), not the proxy's: the
 * 3× bound is taken against at least this much.
 */
const PING_FLOOR_MS = 1;

/** An attack held beside the steady legitimate peer, and the same peer's control run before it. */
export interface Held<T> {
  result: T;
  control: SteadyTally;
  under: SteadyTally;
  /** The proxy's CPU time (user + system, every thread) while the attack ran. */
  cpuSeconds: number;
  seconds: number;
  after: Footprint;
}

async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
}

/**
 * Runs the steady peer alone for {@link HOLD_SECONDS} (the control), then again beside `attack`
 * (which must itself last at least as long), and measures the proxy's CPU time meanwhile.
 */
export function holdBeside<T>(lab: AttackLab, attack: () => Promise<T>): Promise<Held<T>> {
  return oneAttackAtATime(() => held(lab, attack));
}

async function held<T>(lab: AttackLab, attack: () => Promise<T>): Promise<Held<T>> {
  const control = await lab.steady(HOLD_SECONDS).done;
  const cpu = await cpuSeconds(lab.pid);
  const started = Date.now();
  const peer = lab.steady(HOLD_SECONDS * 3);
  const result = await attack().finally(() => peer.stop());
  const under = await peer.done;
  const seconds = (Date.now() - started) / 1000;
  const used = (await cpuSeconds(lab.pid)) - cpu;
  let after = await lab.footprint();
  for (const until = Date.now() + 10_000; after.fds > lab.baseline.fds * 1.1 + 10 && Date.now() < until; )
    after = await new Promise<Footprint>((r) => setTimeout(() => r(lab.footprint()), 250));
  return { result, control, under, cpuSeconds: used, seconds, after };
}

/**
 * The bar of a held attack: every new connection of the legitimate peer succeeded, its
 * established connection never broke and its ping p50 stayed within 3× the control's, and the
 * proxy's descriptors came back. Prints the figures (the test log is where CI keeps them).
 */
export function expectHeld(lab: AttackLab, name: string, held: Held<unknown>): void {
  const { control, under, after } = held;
  const mb = (kb: number) => (kb / 1024).toFixed(0);
  console.log(
    `${name}: held ${held.seconds.toFixed(1)} s; legitimate new connections ${under.ok}/${under.tried} ` +
      `(control ${control.ok}/${control.tried}); ping p50 ${under.p50Ms} ms vs control ${control.p50Ms} ms ` +
      `(p99 ${under.p99Ms} / ${control.p99Ms}); proxy CPU ${held.cpuSeconds.toFixed(1)} s; ` +
      `RSS ${mb(lab.baseline.rssKb)} → ${mb(after.rssKb)} MB; live ${mb(lab.baseline.liveKb)} → ` +
      `${mb(after.liveKb)} MB; descriptors ${lab.baseline.fds} → ${after.fds}; ${JSON.stringify(held.result)}` +
      `; legitimate errors ${JSON.stringify({ ...under.errors, ...under.pingErrors })}`,
  );
  expect(held.seconds, 'the attack was held long enough').toBeGreaterThanOrEqual(HOLD_SECONDS);
  expect(control.errors, 'the control run failed').toEqual({});
  expect(under.errors, 'what failed for the legitimate peer').toEqual({});
  expect(under.tried).toBeGreaterThan(0);
  expect(under.ok).toBe(under.tried);
  expect(under.pingErrors, 'the established connection broke').toEqual({});
  expect(under.pings).toBeGreaterThan(0);
  expect(under.p50Ms, 'ping p50 under attack (ms)').toBeLessThanOrEqual(
    3 * Math.max(control.p50Ms, PING_FLOOR_MS),
  );
  expect(after.fds, 'descriptors after the attack').toBeLessThanOrEqual(lab.baseline.fds * 1.1 + 10);
  expect(after.rssKb, 'resident memory after the attack (kB)').toBeLessThanOrEqual(lab.baseline.rssKb * 2);
}
