import { isSwitchyardError, WorkloadFailedError } from '@switchyard/core';

/** One thing a proxy command starts: a sidecar, a gateway, a tunnel, the admin server. */
export interface ProxyPart {
  /** What to call it in logs. */
  name: string;
  start(): Promise<void>;
  /** Stops it, letting open connections finish for up to `drainMs`. */
  stop(drainMs: number): Promise<void>;
}

/** Where a proxy command writes its lifecycle lines. */
export type LifecycleLog = (line: Record<string, unknown>) => void;

/**
 * Starts `parts` in order and resolves when they have all stopped. When one fails to start, the
 * ones already started are stopped at once and the error is thrown, so a proxy that reported a
 * fatal error never keeps listening. Otherwise it runs until SIGTERM or SIGINT, then stops every
 * part in reverse order, each draining for up to `drainMs`.
 */
export async function runUntilSignal(
  parts: readonly ProxyPart[],
  drainMs: number,
  log: LifecycleLog,
): Promise<void> {
  const started: ProxyPart[] = [];
  try {
    for (const part of parts) {
      // Counted before it starts: a part that fails half-way (one of two listeners up) is stopped too.
      started.push(part);
      await part.start();
      log({ level: 'info', msg: `${part.name} started` });
    }
  } catch (error) {
    log({ level: 'error', msg: 'start failed; stopping what was started', error: (error as Error).message });
    await stopAll(started, 0, log);
    const failed = started[started.length - 1]?.name ?? 'the proxy';
    // A port taken or a namespace gone is the host's doing, not a bug: say which part it stopped.
    throw isSwitchyardError(error)
      ? error
      : new WorkloadFailedError(`${failed} could not start: ${(error as Error).message}`, { cause: error });
  }
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log({ level: 'info', msg: `${signal} received; draining for up to ${drainMs / 1000} s` });
  await stopAll(started, drainMs, log);
}

async function stopAll(parts: readonly ProxyPart[], drainMs: number, log: LifecycleLog): Promise<void> {
  for (const part of [...parts].reverse()) {
    try {
      await part.stop(drainMs);
    } catch (error) {
      log({ level: 'warn', msg: `${part.name} did not stop cleanly`, error: (error as Error).message });
    }
  }
}
