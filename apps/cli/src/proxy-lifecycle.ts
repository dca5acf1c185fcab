import { hasErrorCode, isSwitchyardError, WorkloadFailedError } from '@switchyard/core';

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
  // Listening for signals before anything starts: a SIGTERM that lands right after "started" is
  // logged (or during start) drains instead of killing the process.
  const signals = untilSignal();
  const started: ProxyPart[] = [];
  try {
    for (const part of parts) {
      // Counted before it starts: a part that fails half-way (one of two listeners up) is stopped too.
      started.push(part);
      await part.start();
      log({ level: 'info', msg: `${part.name} started` });
    }
  } catch (error) {
    signals.stopListening();
    // Not logged here: the error thrown below is the one line that says it (the command's last).
    await stopAll(started, 0, log);
    const failed = started[started.length - 1]?.name ?? 'the proxy';
    // A --netns that does not exist is the user's mistake, reported as redirect reports it (exit 2).
    const cause = (error as { cause?: unknown }).cause;
    if (hasErrorCode(cause, 'SWY_ERR_TARGET_NOT_FOUND')) throw cause;
    // A port taken or a namespace gone is the host's doing, not a bug: say which part it stopped.
    throw isSwitchyardError(error)
      ? error
      : new WorkloadFailedError(`${failed} could not start: ${(error as Error).message}`, { cause: error });
  }
  const signal = await signals.received;
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

/** The first SIGTERM or SIGINT from now on, and a way to stop listening for them. */
function untilSignal(): { received: Promise<string>; stopListening(): void } {
  let stopListening = () => {};
  const received = new Promise<string>((resolve) => {
    const handlers = (['SIGTERM', 'SIGINT'] as const).map((name) => {
      const handler = () => resolve(name);
      process.once(name, handler);
      return [name, handler] as const;
    });
    stopListening = () => {
      for (const [name, handler] of handlers) process.off(name, handler);
    };
  });
  return { received, stopListening };
}
