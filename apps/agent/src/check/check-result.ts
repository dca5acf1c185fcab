/** One preflight check: what was checked, whether it passed, and the fix when it did not. */
export interface CheckResult {
  name: string;
  ok: boolean;
  /** True when the agent cannot work while this fails (exit 1). */
  blocking: boolean;
  message: string;
  fix?: string;
}
