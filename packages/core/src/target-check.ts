import type { RedirectionDriver } from './driver.js';
import { TargetUnsupportedError } from './errors.js';
import { formatTarget, type Target } from './target.js';

/**
 * Throws {@link TargetUnsupportedError} unless the driver accepts the target's kind.
 * Drivers call it first in `apply`, `list` and `remove`.
 */
export function assertTargetKind(
  driver: Pick<RedirectionDriver, 'name' | 'targetKinds'>,
  target: Target,
): void {
  if (!driver.targetKinds.includes(target.kind)) {
    throw new TargetUnsupportedError(
      `the ${driver.name} driver cannot capture ${formatTarget(target)}; it accepts ${driver.targetKinds.map((k) => `"${k}"`).join(', ')} targets — pick a driver for this kind of target`,
    );
  }
}
