/** `switchyard-agent`'s exit codes, the same as `switchyard`'s. */
export const EXIT = {
  ok: 0,
  /** The host failed, something blocks (check), or another agent runs. */
  failure: 1,
  /** The config or a flag was wrong; nothing was changed. */
  input: 2,
} as const;
