import type { HcnApi } from './hcn-binding.js';
import { field } from './policy-mapping.js';

/**
 * The endpoint ids of an HNS namespace: its `Resources[]` entries of type `Endpoint`.
 * This is how a Windows pod's namespace GUID (from CRI) becomes the endpoints to program.
 */
export async function namespaceEndpoints(api: HcnApi, namespaceId: string): Promise<string[]> {
  const props = await api.queryNamespace(
    namespaceId,
    JSON.stringify({ SchemaVersion: { Major: 2, Minor: 0 }, Flags: 0 }),
  );
  const resources = field(props, 'Resources');
  if (!Array.isArray(resources)) return [];
  return resources
    .filter((r) => String(field(r, 'Type')).toLowerCase() === 'endpoint')
    .map((r) => String(field(field(r, 'Data'), 'ID') ?? field(r, 'ID')).toLowerCase())
    .filter((id) => id !== 'undefined');
}
