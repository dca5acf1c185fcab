/**
 * Switchyard's typed errors: one class per condition, all under {@link SwitchyardError}.
 *
 * Every error has a stable `code` (`SWY_ERR_…`, listed in `docs/errors.md`), a `name` equal to
 * its class name, an optional `cause`, and a message that tells the reader what to do next.
 * Callers branch on `code` through {@link isSwitchyardError}, never on the message text and never
 * on `instanceof` alone: a driver package may bring its own copy of core, whose classes differ.
 *
 * @module
 */

import type { PolicyIssue } from './policy-issue.js';

/** Whether an error was caused by what the user gave (exit code 2) or by the host (exit code 1). */
export type ErrorKind = 'input' | 'failure';

/**
 * The brand every {@link SwitchyardError} carries. `Symbol.for` returns one symbol per process, so
 * errors from a second copy of `@switchyard/core` (a driver's own) carry the same brand.
 */
export const SWITCHYARD_ERROR_BRAND: unique symbol = Symbol.for('switchyard.error') as never;

/** Options every Switchyard error accepts. */
export interface SwitchyardErrorOptions {
  /** The lower-level error this one wraps, if any. */
  cause?: unknown;
}

/**
 * The base of every error Switchyard throws on purpose.
 *
 * @example
 * ```ts
 * try { await driver.apply(target, policy); }
 * catch (e) { if (isSwitchyardError(e) && e.code === 'SWY_ERR_POLICY_INVALID') … }
 * ```
 */
export abstract class SwitchyardError extends Error {
  /** The brand {@link isSwitchyardError} checks; the same in every copy of core. */
  readonly [SWITCHYARD_ERROR_BRAND] = true;
  /** Stable machine-readable code, e.g. `SWY_ERR_POLICY_INVALID`. */
  abstract readonly code: string;
  /** `input` when the caller can fix it by changing what they passed; `failure` otherwise. */
  abstract readonly kind: ErrorKind;

  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }

  /** A plain object for `--json` output and structured logs. */
  toJSON(): { name: string; code: string; message: string } {
    return { name: this.name, code: this.code, message: this.message };
  }
}

/** A redirection policy failed validation. `issues` lists every problem, each with its field path. */
export class PolicyInvalidError extends SwitchyardError {
  readonly code = 'SWY_ERR_POLICY_INVALID';
  readonly kind = 'input';
  /** Every problem found, in document order. */
  readonly issues: readonly PolicyIssue[];

  constructor(issues: readonly PolicyIssue[], options: SwitchyardErrorOptions = {}) {
    const lines = issues.map((i) => `  - ${i.path || '(policy)'}: ${i.message}`);
    super(
      `The redirection policy has ${issues.length} problem${issues.length === 1 ? '' : 's'}; fix ${issues.length === 1 ? 'it' : 'them'} and try again:\n${lines.join('\n')}`,
      options,
    );
    this.issues = issues;
  }

  override toJSON(): { name: string; code: string; message: string; issues: readonly PolicyIssue[] } {
    return { ...super.toJSON(), issues: this.issues };
  }
}

/** A policy is valid but the chosen driver cannot express it on its platform (e.g. IPv6 on HNS). */
export class PolicyUnsupportedError extends SwitchyardError {
  readonly code = 'SWY_ERR_POLICY_UNSUPPORTED';
  readonly kind = 'input';
}

/** The target already holds a policy that the new one cannot sit beside (a driver with one policy per target). */
export class PolicyConflictError extends SwitchyardError {
  readonly code = 'SWY_ERR_POLICY_CONFLICT';
  readonly kind = 'input';
}

/** A target description could not be parsed (e.g. `netns:` with no name). */
export class TargetInvalidError extends SwitchyardError {
  readonly code = 'SWY_ERR_TARGET_INVALID';
  readonly kind = 'input';
}

/** The target does not exist on this host (no such network namespace, process or endpoint). */
export class TargetNotFoundError extends SwitchyardError {
  readonly code = 'SWY_ERR_TARGET_NOT_FOUND';
  readonly kind = 'input';
}

/** The driver does not handle this kind of target (e.g. an HNS endpoint given to the tproxy driver). */
export class TargetUnsupportedError extends SwitchyardError {
  readonly code = 'SWY_ERR_TARGET_UNSUPPORTED';
  readonly kind = 'input';
}

/** No driver of that name is registered or built in. */
export class DriverNotFoundError extends SwitchyardError {
  readonly code = 'SWY_ERR_DRIVER_NOT_FOUND';
  readonly kind = 'input';
}

/** A driver with the same name is already registered. */
export class DriverDuplicateError extends SwitchyardError {
  readonly code = 'SWY_ERR_DRIVER_DUPLICATE';
  readonly kind = 'input';
}

/** A driver was written for another major version of the driver API than this core provides. */
export class DriverIncompatibleError extends SwitchyardError {
  readonly code = 'SWY_ERR_DRIVER_INCOMPATIBLE';
  readonly kind = 'input';
}

/** A driver module could not be imported, or does not export a driver definition. */
export class DriverLoadError extends SwitchyardError {
  readonly code = 'SWY_ERR_DRIVER_LOAD';
  readonly kind = 'failure';
}

/** No carrier of that name is registered or built in. */
export class CarrierNotFoundError extends SwitchyardError {
  readonly code = 'SWY_ERR_CARRIER_NOT_FOUND';
  readonly kind = 'input';
}

/** A carrier with the same name is already registered. */
export class CarrierDuplicateError extends SwitchyardError {
  readonly code = 'SWY_ERR_CARRIER_DUPLICATE';
  readonly kind = 'input';
}

/** A carrier was written for another major version of the carrier API than this data plane provides. */
export class CarrierIncompatibleError extends SwitchyardError {
  readonly code = 'SWY_ERR_CARRIER_INCOMPATIBLE';
  readonly kind = 'input';
}

/** A carrier module could not be imported, or does not export a carrier definition. */
export class CarrierLoadError extends SwitchyardError {
  readonly code = 'SWY_ERR_CARRIER_LOAD';
  readonly kind = 'failure';
}

/** The driver cannot run on this platform or host (wrong OS, missing capability or tool). */
export class UnsupportedPlatformError extends SwitchyardError {
  readonly code = 'SWY_ERR_UNSUPPORTED_PLATFORM';
  readonly kind = 'failure';
}

/** The host refused a change the driver tried to make; nothing was changed. */
export class ApplyFailedError extends SwitchyardError {
  readonly code = 'SWY_ERR_APPLY_FAILED';
  readonly kind = 'failure';
}

/** The container runtime (CRI) could not be reached, or speaks an API version Switchyard does not. */
export class RuntimeUnavailableError extends SwitchyardError {
  readonly code = 'SWY_ERR_RUNTIME_UNAVAILABLE';
  readonly kind = 'failure';
}

/** A file or command-line value given by the user could not be read or parsed. */
export class InputInvalidError extends SwitchyardError {
  readonly code = 'SWY_ERR_INPUT_INVALID';
  readonly kind = 'input';
}

/** Something Switchyard did not expect went wrong: a bug. The message says what, without a stack trace. */
export class InternalError extends SwitchyardError {
  readonly code = 'SWY_ERR_INTERNAL';
  readonly kind = 'failure';
}

/** A workload given to the data plane is malformed (no id, a port out of range, an unknown carrier). */
export class WorkloadInvalidError extends SwitchyardError {
  readonly code = 'SWY_ERR_WORKLOAD_INVALID';
  readonly kind = 'input';
}

/** A workload could not be served: its network is gone, a port is taken. Other workloads go on. */
export class WorkloadFailedError extends SwitchyardError {
  readonly code = 'SWY_ERR_WORKLOAD_FAILED';
  readonly kind = 'failure';
}

/** A TLS handshake with an upstream peer failed or timed out; nothing was sent in plaintext. */
export class UpstreamTlsError extends SwitchyardError {
  readonly code = 'SWY_ERR_UPSTREAM_TLS';
  readonly kind = 'failure';
}

/** An upstream peer presented an identity it may not have for that address (pinning, policy). */
export class UpstreamIdentityError extends SwitchyardError {
  readonly code = 'SWY_ERR_UPSTREAM_IDENTITY';
  readonly kind = 'failure';
  /** Why, as a stable word: `unexpected-identity`, `several-identities`, `no-identity`, `unknown-destination`, `policy`, `alpn`. */
  readonly reason: string;

  constructor(message: string, reason = 'policy', options: SwitchyardErrorOptions = {}) {
    super(message, options);
    this.reason = reason;
  }
}

/** An HBONE peer answered a tunnel request with an error status, or the tunnel broke before it opened. */
export class HboneTunnelError extends SwitchyardError {
  readonly code = 'SWY_ERR_HBONE_TUNNEL';
  readonly kind = 'failure';
  /** The HTTP status the peer answered (400, 401, 503…), or 0 when there was no answer. */
  readonly status: number;

  constructor(message: string, status = 0, options: SwitchyardErrorOptions = {}) {
    super(message, options);
    this.status = status;
  }
}

/** Every error class, for documentation checks and for mapping codes back to classes. */
export const ERROR_CLASSES = [
  PolicyInvalidError,
  PolicyUnsupportedError,
  PolicyConflictError,
  TargetInvalidError,
  TargetNotFoundError,
  TargetUnsupportedError,
  DriverNotFoundError,
  DriverDuplicateError,
  DriverIncompatibleError,
  DriverLoadError,
  CarrierNotFoundError,
  CarrierDuplicateError,
  CarrierIncompatibleError,
  CarrierLoadError,
  UnsupportedPlatformError,
  ApplyFailedError,
  RuntimeUnavailableError,
  InputInvalidError,
  InternalError,
  WorkloadInvalidError,
  WorkloadFailedError,
  UpstreamTlsError,
  UpstreamIdentityError,
  HboneTunnelError,
] as const;

/**
 * True when `error` is a Switchyard error from any copy of `@switchyard/core`: it carries the
 * {@link SWITCHYARD_ERROR_BRAND} and a `SWY_ERR_` code. Use it instead of `instanceof`, which fails
 * for errors thrown by a driver that brings its own core.
 */
export function isSwitchyardError(error: unknown): error is SwitchyardError {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { [SWITCHYARD_ERROR_BRAND]?: unknown; code?: unknown };
  return e[SWITCHYARD_ERROR_BRAND] === true && typeof e.code === 'string' && e.code.startsWith('SWY_ERR_');
}

/** True when `error` is a Switchyard error (from any copy of core) with the given code. */
export function hasErrorCode(error: unknown, code: string): error is SwitchyardError {
  return isSwitchyardError(error) && error.code === code;
}
