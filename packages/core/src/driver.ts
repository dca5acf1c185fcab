import type { NormalizedPolicy } from './policy.js';
import type { SocketOps } from './socket-ops.js';
import type { Target } from './target.js';

/** One reason a driver cannot work on this host, and what would fix it. */
export interface ProbeProblem {
  /** What is missing, e.g. "the nft command is not installed". */
  message: string;
  /** What to do about it, e.g. "apt-get install nftables". */
  fix: string;
}

/** The answer of {@link RedirectionDriver.probe}. */
export interface ProbeResult {
  /** True when `apply`, `list` and `remove` can work here. */
  usable: boolean;
  /** Empty when usable; otherwise every reason found, not just the first. */
  problems: ProbeProblem[];
  /** What the driver found out about the host (versions, paths), for `switchyard drivers`. */
  details: Record<string, string>;
}

/** What a driver wrote (or would write) to the host, in the host's own language. */
export interface Artifact {
  /** `nft` for an nftables script, `json` for HNS requests or the memory driver's record, `text` otherwise. */
  format: 'nft' | 'json' | 'text';
  /** The exact content, printable as-is by `plan` and `apply`. */
  content: string;
}

/** Options for {@link RedirectionDriver.apply}. */
export interface ApplyOptions {
  /** Compute and return the artifact but change nothing on the host. Default false. */
  dryRun?: boolean;
}

/** The answer of {@link RedirectionDriver.apply}. */
export interface ApplyResult {
  /** The policy id on the target. */
  id: string;
  /** What was written, or with `dryRun` what would be written. Identical in both cases. */
  artifact: Artifact;
  /** False when the target already held exactly this policy (or with `dryRun`, would not change). */
  changed: boolean;
  /** Echoes the option, so printed results say which they were. */
  dryRun: boolean;
}

/** A policy as read back from the host by {@link RedirectionDriver.list}. */
export interface AppliedPolicy {
  /** The policy id on the target. */
  id: string;
  /** The policy as the driver reconstructs it from the host's state. */
  policy: NormalizedPolicy;
}

/** What a driver can do beyond the required contract; the compliance suite reads it. */
export interface DriverCapabilities {
  /** Several policies (different ids) can live on one target at once. */
  multiplePolicies: boolean;
}

/**
 * What every capture driver does. Implementations: the built-in `memory`, `tproxy` (Linux) and
 * `hns` (Windows) drivers, and third-party drivers loaded through the {@link DriverRegistry}.
 * Every implementation must pass the compliance suite in `@switchyard/core/testing`.
 */
export interface RedirectionDriver {
  /** The registry name, e.g. `tproxy`. */
  readonly name: string;
  /** The {@link Target} kinds this driver accepts, e.g. `['netns']`. */
  readonly targetKinds: readonly string[];
  /** Optional features. */
  readonly capabilities: DriverCapabilities;
  /**
   * Says whether the driver can work on this host and, if not, every reason and its fix.
   * Never throws for an unusable host; changes nothing.
   */
  probe(): Promise<ProbeResult>;
  /**
   * Makes the target hold `policy` under its id, replacing any policy with the same id.
   *
   * - Validates first: an invalid policy throws `PolicyInvalidError` and changes nothing.
   * - Idempotent: applying the same policy again changes nothing and returns `changed: false`.
   * - Atomic: the target holds the old policy or the new one, never a mix, even if the process dies.
   * - With `dryRun`, returns the same artifact it would write and touches nothing.
   *
   * @throws TargetUnsupportedError for a target kind not in `targetKinds`.
   * @throws TargetNotFoundError when the target does not exist.
   * @throws PolicyUnsupportedError when the policy is valid but not expressible by this driver.
   */
  apply(target: Target, policy: unknown, options?: ApplyOptions): Promise<ApplyResult>;
  /** The policies on the target, read back from the host (not from memory), sorted by id. */
  list(target: Target): Promise<AppliedPolicy[]>;
  /**
   * Removes the policy with `id`, or every Switchyard policy on the target when `id` is omitted.
   * Removes exactly what Switchyard added and nothing else. Returns how many policies were removed
   * (0 when there was nothing to remove; that is not an error).
   */
  remove(target: Target, id?: string): Promise<number>;
  /** The data-plane operations proxies use with this driver's capture. */
  readonly socketOps: SocketOps;
}
