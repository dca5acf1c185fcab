import {
  type AppliedPolicy,
  ApplyFailedError,
  type ApplyOptions,
  type ApplyResult,
  assertTargetKind,
  type NetnsTarget,
  type NormalizedPolicy,
  normalizePolicy,
  PolicyConflictError,
  PolicyUnsupportedError,
  type RedirectionDriver,
  type SocketOps,
  type Target,
} from '@switchyard/core';
import { assertFamiliesRoutable, ensureLoopbackUp } from './namespace-readiness.js';
import { existingNetns, runIn } from './netns.js';
import { policyFromListing } from './parse-ruleset.js';
import { addRouting, deleteRouting, FAMILIES, type RoutingState, routingMatches } from './policy-routing.js';
import { probeHost } from './probe.js';
import { renderRuleset } from './render-ruleset.js';
import { DEFAULT_ROUTING, type RoutingSettings, TABLE_NAME } from './settings.js';
import { transparentSocketOps } from './transparent-socket-ops.js';

/** Options of {@link tproxyDriver}: the routing numbers, each with its default. */
export type TproxyDriverOptions = Partial<RoutingSettings>;

async function readPolicy(nsPath: string): Promise<NormalizedPolicy | undefined> {
  const r = await runIn(nsPath, 'nft', ['list', 'table', 'inet', TABLE_NAME]);
  if (r.code !== 0) {
    if (/No such file or directory/.test(r.stderr)) return undefined;
    throw new ApplyFailedError(`"nft list table inet ${TABLE_NAME}" failed: ${r.stderr.trim()}`);
  }
  return policyFromListing(r.stdout);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The Linux capture driver: one nftables `inet` table named `switchyard` per network namespace,
 * plus a policy-routing rule and local route per IP family. One policy per namespace; applying
 * another id while one is present is refused with `SWY_ERR_POLICY_CONFLICT`.
 *
 * Needs root (CAP_NET_ADMIN), `nft`, `ip` and `nsenter`; `probe()` says what is missing.
 */
export function tproxyDriver(options: TproxyDriverOptions = {}): RedirectionDriver {
  const settings: RoutingSettings = { ...DEFAULT_ROUTING, ...options };
  let socketOps: SocketOps | undefined;

  const driver: RedirectionDriver = {
    name: 'tproxy',
    targetKinds: ['netns'],
    capabilities: { multiplePolicies: false },
    get socketOps() {
      socketOps ??= transparentSocketOps(settings.defaultBypassMark);
      return socketOps;
    },

    probe: () => probeHost(settings),

    async apply(target: Target, input: unknown, applyOptions: ApplyOptions = {}): Promise<ApplyResult> {
      assertTargetKind(driver, target);
      const policy = normalizePolicy(input);
      if (policy.bypass.userSid !== undefined) {
        throw new PolicyUnsupportedError(
          'bypass.userSid is a Windows SID and cannot be matched on Linux; use bypass.mark, bypass.uid or bypass.gid',
        );
      }
      const nsPath = await existingNetns(target as NetnsTarget);
      await assertFamiliesRoutable(nsPath, policy.families);
      const script = renderRuleset(policy, settings);
      const artifact = { format: 'nft' as const, content: script };
      const current = await readPolicy(nsPath);
      if (current && current.id !== policy.id) {
        throw new PolicyConflictError(
          `${nsPath} already holds Switchyard policy "${current.id}"; the tproxy driver keeps one policy per namespace — remove it first, or apply with id "${current.id}" to replace it`,
        );
      }
      const changed = !(
        current &&
        same(current, policy) &&
        (await routingMatches(nsPath, policy.families, settings))
      );
      const dryRun = applyOptions.dryRun === true;
      if (dryRun || !changed) return { id: policy.id, artifact, changed, dryRun };

      // Routing first: without the table it routes nothing, so a crash here captures nothing.
      const added = new Map<(typeof FAMILIES)[number], RoutingState>();
      await ensureLoopbackUp(nsPath);
      try {
        for (const family of policy.families) added.set(family, await addRouting(nsPath, family, settings));
        const r = await runIn(nsPath, 'nft', ['-f', '-'], script);
        if (r.code !== 0)
          throw new ApplyFailedError(`nft refused the ruleset, so nothing was changed: ${r.stderr.trim()}`);
      } catch (error) {
        for (const [family, parts] of added)
          await deleteRouting(nsPath, family, settings, parts).catch(() => {});
        throw error;
      }
      for (const family of FAMILIES)
        if (!policy.families.includes(family)) await deleteRouting(nsPath, family, settings);
      return { id: policy.id, artifact, changed, dryRun };
    },

    async list(target: Target): Promise<AppliedPolicy[]> {
      assertTargetKind(driver, target);
      const policy = await readPolicy(await existingNetns(target as NetnsTarget));
      return policy ? [{ id: policy.id, policy }] : [];
    },

    async remove(target: Target, id?: string): Promise<number> {
      assertTargetKind(driver, target);
      const nsPath = await existingNetns(target as NetnsTarget);
      const current = await readPolicy(nsPath);
      if (!current || (id !== undefined && id !== current.id)) return 0;
      const r = await runIn(nsPath, 'nft', ['delete', 'table', 'inet', TABLE_NAME]);
      if (r.code !== 0)
        throw new ApplyFailedError(`"nft delete table inet ${TABLE_NAME}" failed: ${r.stderr.trim()}`);
      for (const family of FAMILIES) await deleteRouting(nsPath, family, settings);
      return 1;
    },
  };
  return driver;
}
