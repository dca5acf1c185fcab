import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AppliedPolicy,
  type ApplyOptions,
  type ApplyResult,
  assertTargetKind,
  type HnsEndpointTarget,
  normalizePolicy,
  PolicyUnsupportedError,
  type ProbeResult,
  type RedirectionDriver,
  type Target,
  TargetNotFoundError,
} from '@switchyard/core';
import { type HcnApi, type HcnLibraryPaths, loadHcn } from './hcn-binding.js';
import { HcnError } from './hcn-errors.js';
import { hostSocketOps } from './host-socket-ops.js';
import {
  field,
  fromHnsPolicies,
  modifyRequest,
  REQUIRED_HNS_VERSION,
  toHnsPolicies,
} from './policy-mapping.js';
import { canonical, PolicyState } from './policy-state.js';

/** Options of {@link hnsDriver}. */
export interface HnsDriverOptions {
  /** Where the HCN functions come from (tests: the stand-in library). Default: the Windows DLLs. */
  library?: HcnLibraryPaths;
  /** Where the id → HNS policies record lives. Default `%ProgramData%\Switchyard\hns` on Windows. */
  stateDir?: string;
}

const isL4 = (p: unknown) => String(field(p, 'Type')).toUpperCase() === 'L4WFPPROXY';

function defaultStateDir(): string {
  return process.platform === 'win32'
    ? join(process.env.ProgramData ?? 'C:\\ProgramData', 'Switchyard', 'hns')
    : join(tmpdir(), 'switchyard-hns');
}

/**
 * The Windows capture driver: HNS L4WFPPROXY policies on an endpoint, through computenetwork.dll.
 * The library loads on first use, so importing this works everywhere; `probe()` says "Windows
 * only" elsewhere unless a library path is given (the stand-in, in tests).
 */
export function hnsDriver(options: HnsDriverOptions = {}): RedirectionDriver & {
  /** Every L4WFPPROXY policy on the endpoint, Switchyard's or not, as HNS returns them. */
  proxyPolicies(endpoint: string): Promise<unknown[]>;
  /** Removes every L4WFPPROXY policy on the endpoint (hcnproxyctl's ClearPolicies) and returns how many. */
  clearAll(
    endpoint: string,
    dryRun?: boolean,
  ): Promise<{ removed: number; request: Record<string, unknown> }>;
} {
  let api: Promise<HcnApi> | undefined;
  const hcn = () => {
    // A failed load is not kept: the next call loads again (a library that appears later is used).
    api ??= loadHcn(options.library).catch((error) => {
      api = undefined;
      throw error;
    });
    return api;
  };
  const state = new PolicyState(options.stateDir ?? defaultStateDir());

  async function endpointPolicies(id: string): Promise<unknown[]> {
    try {
      const props = await (await hcn()).queryEndpoint(
        id,
        JSON.stringify({ SchemaVersion: { Major: 2, Minor: 0 }, Flags: 0 }),
      );
      const policies = field(props, 'Policies');
      return Array.isArray(policies) ? policies : [];
    } catch (error) {
      if (error instanceof HcnError && error.hcnCode === 'HCN_E_ENDPOINT_NOT_FOUND') {
        throw new TargetNotFoundError(
          `HNS has no endpoint ${id}; list endpoints with "Get-HnsEndpoint" or find a container's with "switchyard hns lookup"`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  /** For each recorded id, the policies HNS holds that match what was added; ids whose policies are gone are dropped. */
  async function owned(id: string): Promise<Map<string, unknown[]>> {
    const present = (await endpointPolicies(id)).filter(isL4);
    const record = await state.read(id);
    const result = new Map<string, unknown[]>();
    let stale = false;
    for (const [policyId, added] of Object.entries(record)) {
      const matches = added
        .map((a) => present.find((p) => canonical(p) === canonical(a)))
        .filter((p) => p !== undefined);
      if (matches.length === 0) {
        delete record[policyId];
        stale = true;
      } else result.set(policyId, matches);
    }
    if (stale) await state.write(id, record);
    return result;
  }

  async function checkVersion(): Promise<void> {
    const v = await (await hcn()).hnsVersion();
    if (
      v.major < REQUIRED_HNS_VERSION.major ||
      (v.major === REQUIRED_HNS_VERSION.major && v.minor < REQUIRED_HNS_VERSION.minor)
    ) {
      throw new PolicyUnsupportedError(
        `L4WFPPROXY with inbound/outbound ports and exceptions needs HNS ${REQUIRED_HNS_VERSION.major}.${REQUIRED_HNS_VERSION.minor} (Windows Server 2022) or later; this host has HNS ${v.major}.${v.minor}`,
      );
    }
  }

  const driver = {
    name: 'hns',
    targetKinds: ['hns-endpoint'],
    capabilities: { multiplePolicies: true },
    socketOps: hostSocketOps(),

    async probe(): Promise<ProbeResult> {
      if (!options.library && process.platform !== 'win32') {
        return {
          usable: false,
          problems: [
            { message: `Windows only (this is ${process.platform})`, fix: 'use the tproxy driver on Linux' },
          ],
          details: {},
        };
      }
      try {
        const v = await (await hcn()).hnsVersion();
        const details = { hnsVersion: `${v.major}.${v.minor}`, stateDir: state.dir };
        const old =
          v.major < REQUIRED_HNS_VERSION.major ||
          (v.major === REQUIRED_HNS_VERSION.major && v.minor < REQUIRED_HNS_VERSION.minor);
        return old
          ? {
              usable: false,
              problems: [
                {
                  message: `HNS ${v.major}.${v.minor} is older than ${REQUIRED_HNS_VERSION.major}.${REQUIRED_HNS_VERSION.minor}`,
                  fix: 'upgrade to Windows Server 2022 or later',
                },
              ],
              details,
            }
          : { usable: true, problems: [], details };
      } catch (error) {
        return {
          usable: false,
          problems: [
            {
              message: (error as Error).message,
              fix: 'run on Windows Server 2022+ with the Host Networking Service (hns) running',
            },
          ],
          details: {},
        };
      }
    },

    async apply(target: Target, input: unknown, applyOptions: ApplyOptions = {}): Promise<ApplyResult> {
      assertTargetKind(driver, target);
      const policy = normalizePolicy(input);
      const wanted = toHnsPolicies(policy);
      const endpoint = (target as HnsEndpointTarget).id;
      await checkVersion();
      const mine = await owned(endpoint);
      const current = mine.get(policy.id);
      const unchanged = current !== undefined && canonical(current) === canonical(wanted);
      const requests = [
        ...(current && !unchanged ? [modifyRequest('Remove', current)] : []),
        modifyRequest('Add', wanted),
      ];
      const artifact = {
        format: 'json' as const,
        content: `${requests.map((r) => JSON.stringify(r, null, 2)).join('\n')}\n`,
      };
      const dryRun = applyOptions.dryRun === true;
      if (dryRun || unchanged) return { id: policy.id, artifact, changed: !unchanged, dryRun };

      const api = await hcn();
      if (current) await api.modifyEndpoint(endpoint, JSON.stringify(modifyRequest('Remove', current)));
      try {
        await api.modifyEndpoint(endpoint, JSON.stringify(modifyRequest('Add', wanted)));
      } catch (error) {
        // HNS takes one request type per call, so a replace is two calls; put the old policy back.
        if (current)
          await api.modifyEndpoint(endpoint, JSON.stringify(modifyRequest('Add', current))).catch(() => {});
        throw error;
      }
      const record = await state.read(endpoint);
      record[policy.id] = wanted;
      await state.write(endpoint, record);
      return { id: policy.id, artifact, changed: true, dryRun };
    },

    async list(target: Target): Promise<AppliedPolicy[]> {
      assertTargetKind(driver, target);
      const mine = await owned((target as HnsEndpointTarget).id);
      return [...mine.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([id, returned]) => ({ id, policy: fromHnsPolicies(id, returned) }));
    },

    async remove(target: Target, id?: string): Promise<number> {
      assertTargetKind(driver, target);
      const endpoint = (target as HnsEndpointTarget).id;
      const mine = await owned(endpoint);
      const record = await state.read(endpoint);
      let removed = 0;
      for (const [policyId, returned] of mine) {
        if (id !== undefined && policyId !== id) continue;
        // HNS removes by exact match: send the policies exactly as it returned them.
        await (await hcn()).modifyEndpoint(endpoint, JSON.stringify(modifyRequest('Remove', returned)));
        delete record[policyId];
        removed += 1;
      }
      await state.write(endpoint, record);
      return removed;
    },

    async proxyPolicies(endpoint: string): Promise<unknown[]> {
      return (await endpointPolicies(endpoint)).filter(isL4);
    },

    async clearAll(endpoint: string, dryRun = false) {
      const present = (await endpointPolicies(endpoint)).filter(isL4);
      const request = modifyRequest('Remove', present);
      if (!dryRun && present.length > 0) {
        await (await hcn()).modifyEndpoint(endpoint, JSON.stringify(request));
        await state.write(endpoint, {});
      }
      return { removed: present.length, request };
    },
  };
  return driver;
}
