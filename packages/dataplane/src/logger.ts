/** The log levels, most verbose first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** Severity of a log line. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Structured fields of a log line. */
export type LogFields = Record<string, unknown>;

/**
 * The one logger every part of the data plane writes to; inject your own (pino, OpenTelemetry)
 * by implementing these five methods. Logs are for lifecycle and sampled per-connection lines;
 * every per-connection event is also a metric and a diagnostics-channel message.
 */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. `{ workload: 'web/api' }`). */
  child(fields: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Options of {@link jsonLogger}. */
export interface JsonLoggerOptions {
  /**
   * Lowest level written. Default `info`. A function is read at every line: the level can change
   * while the program runs (the admin endpoint's `POST /logging?level=debug`).
   */
  level?: LogLevel | (() => LogLevel);
  /** Fields on every line, e.g. `{ component: 'dataplane' }`. */
  fields?: LogFields;
  /** Where lines go. Default: standard error. */
  write?: (line: string) => void;
}

/** The default {@link Logger}: one JSON object per line with `time`, `level` and `msg`. */
export function jsonLogger(options: JsonLoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const min = typeof level === 'function' ? () => ORDER[level()] : () => ORDER[level];
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const make = (base: LogFields): Logger => {
    const at =
      (level: LogLevel) =>
      (msg: string, fields?: LogFields): void => {
        if (ORDER[level] < min()) return;
        write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...base, ...fields })}\n`);
      };
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make(options.fields ?? {});
}

/** A logger that drops everything (for embedding where the host logs nothing). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};

/**
 * Lets at most `perSecond` lines through per one-second window and counts the rest, reporting
 * how many were dropped on the next line that passes. Per-connection lines go through this, so a
 * peer that fails a thousand times a second cannot flood the log.
 */
export function rateLimited(perSecond: number): () => { pass: boolean; dropped: number } {
  let windowStart = 0;
  let used = 0;
  let dropped = 0;
  return () => {
    const now = Date.now();
    if (now - windowStart >= 1_000) {
      windowStart = now;
      used = 0;
    }
    if (used >= perSecond) {
      dropped += 1;
      return { pass: false, dropped: 0 };
    }
    used += 1;
    const report = dropped;
    dropped = 0;
    return { pass: true, dropped: report };
  };
}
