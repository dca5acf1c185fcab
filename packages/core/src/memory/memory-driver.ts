import type { AppliedPolicy, ApplyOptions, ApplyResult, ProbeResult, RedirectionDriver } from '../driver.js';
import type { NormalizedPolicy } from '../policy.js';
import { formatTarget, type Target } from '../target.js';
import { assertTargetKind } from '../target-check.js';
import { normalizePolicy } from '../validate-policy.js';
import { loopbackSocketOps } from './loopback-socket-ops.js';

/** Options of {@link memoryDriver}. */
export interface MemoryDriverOptions {
  /** Target kinds it accepts. Default `['netns', 'hns-endpoint']`. */
  targetKinds?: string[];
  /**
   * Where policies are kept, keyed by target then id. Pass the same map to several drivers to
   * share state (as several processes sharing one host would). Default: a new map.
   */
  store?: Map<string, Map<string, NormalizedPolicy>>;
}

/**
 * A driver that keeps policies in memory and changes nothing on the host: for tests, for
 * unprivileged development, and as the reference implementation of the driver contract.
 * Its artifact is the normalized policy as JSON; its socket ops are plain loopback ones.
 */
export function memoryDriver(options: MemoryDriverOptions = {}): RedirectionDriver {
  const store = options.store ?? new Map<string, Map<string, NormalizedPolicy>>();
  const targetKinds = options.targetKinds ?? ['netns', 'hns-endpoint'];

  const driver: RedirectionDriver = {
    name: 'memory',
    targetKinds,
    capabilities: { multiplePolicies: true },
    socketOps: loopbackSocketOps(),

    async probe(): Promise<ProbeResult> {
      return {
        usable: true,
        problems: [],
        details: { state: 'in process memory; nothing on the host changes' },
      };
    },

    async apply(target: Target, input: unknown, applyOptions: ApplyOptions = {}): Promise<ApplyResult> {
      assertTargetKind(driver, target);
      const policy = normalizePolicy(input);
      const content = `${JSON.stringify(policy, null, 2)}\n`;
      const key = formatTarget(target);
      const existing = store.get(key)?.get(policy.id);
      const changed = existing === undefined || `${JSON.stringify(existing, null, 2)}\n` !== content;
      const dryRun = applyOptions.dryRun === true;
      if (!dryRun && changed) {
        const policies = store.get(key) ?? new Map<string, NormalizedPolicy>();
        policies.set(policy.id, structuredClone(policy));
        store.set(key, policies);
      }
      return { id: policy.id, artifact: { format: 'json', content }, changed, dryRun };
    },

    async list(target: Target): Promise<AppliedPolicy[]> {
      assertTargetKind(driver, target);
      const policies = store.get(formatTarget(target)) ?? new Map<string, NormalizedPolicy>();
      return [...policies.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([id, policy]) => ({ id, policy: structuredClone(policy) }));
    },

    async remove(target: Target, id?: string): Promise<number> {
      assertTargetKind(driver, target);
      const key = formatTarget(target);
      const policies = store.get(key);
      if (!policies) return 0;
      let removed = 0;
      if (id === undefined) removed = policies.size;
      else if (policies.delete(id)) removed = 1;
      if (id === undefined || policies.size === 0) store.delete(key);
      return removed;
    },
  };
  return driver;
}
