import { TargetNotFoundError } from '@switchyard/core';
import type { HcnApi } from '@switchyard/driver-hns';

/** Finds a Windows container's HNS endpoint id by the container's address. */
export type HnsEndpointFinder = (ip: string) => Promise<string>;

/**
 * Finds HNS endpoints by address: Docker on Windows reports a container's address but not the
 * HNS endpoint behind it (its `EndpointID` is Docker's own), so the endpoints HNS enumerates are
 * matched on `IpConfigurations[].IpAddress`. `hcn` defaults to the real computenetwork.dll,
 * loaded on first use.
 */
export function hnsEndpointFinder(hcn?: () => Promise<HcnApi>): HnsEndpointFinder {
  let api: Promise<HcnApi> | undefined;
  const load = () => {
    // A failed load is not kept: the next capture attempt loads again.
    api ??= (hcn ? hcn() : import('@switchyard/driver-hns').then((m) => m.loadHcn())).catch((error) => {
      api = undefined;
      throw error;
    });
    return api;
  };
  return async (ip) => {
    const h = await load();
    for (const id of await h.enumerateEndpoints('{}')) {
      const endpoint = await h.queryEndpoint(id, '{}');
      const configs = (endpoint.IpConfigurations ?? []) as { IpAddress?: string }[];
      if (configs.some((c) => c.IpAddress === ip)) return String(endpoint.ID ?? id);
    }
    throw new TargetNotFoundError(`no HNS endpoint has the address ${ip}; is the container's network up?`);
  };
}
