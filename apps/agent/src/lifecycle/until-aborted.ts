/**
 * `work`, unless `signal` aborts first: then it rejects with the signal's reason at once, and
 * whatever `work` later yields is handed to `dispose` (a watch that finished starting after the
 * agent was told to stop is stopped again; nothing is left running).
 */
export function untilAborted<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  dispose: (late: T) => unknown = () => undefined,
): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      reject(signal.reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (aborted)
          void Promise.resolve(value)
            .then(dispose)
            .catch(() => undefined);
        else resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
