/**
 * The `switchyard` exit codes. Scripts may rely on them; `docs/cli.md` lists them.
 */
export const EXIT = {
  /** The command did what was asked. */
  ok: 0,
  /** The host or a driver failed (not root, a tool missing, the kernel refused). */
  failure: 1,
  /** What was given was wrong: a bad flag, file, policy or target. Nothing was changed. */
  input: 2,
} as const;

/** One of the {@link EXIT} values. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
