import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '@switchyard/core';
import type { L4WfpProxyPolicy } from './policy-mapping.js';

/** Switchyard's policy ids on one endpoint, each with the HNS policies it added. */
export type EndpointRecord = Record<string, L4WfpProxyPolicy[]>;

/**
 * HNS policies carry no name, so which of an endpoint's L4WFPPROXY policies belong to which
 * Switchyard policy id is recorded here, one small JSON file per endpoint. HNS stays the source
 * of truth: an id is listed only while its policies are present on the endpoint.
 */
export class PolicyState {
  constructor(readonly dir: string) {}

  #file(endpoint: string): string {
    return join(this.dir, `${endpoint.toLowerCase()}.json`);
  }

  async read(endpoint: string): Promise<EndpointRecord> {
    try {
      return JSON.parse(await readFile(this.#file(endpoint), 'utf8')) as EndpointRecord;
    } catch {
      return {};
    }
  }

  /** Writes atomically (temporary file, then rename); an empty record deletes the file. */
  async write(endpoint: string, record: EndpointRecord): Promise<void> {
    const file = this.#file(endpoint);
    if (Object.keys(record).length === 0) {
      await rm(file, { force: true });
      return;
    }
    await mkdir(this.dir, { recursive: true });
    await writeJsonAtomic(file, record);
  }
}

/** A canonical text of a JSON value: keys lower-cased and sorted, so HNS's key casing does not matter. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(([k, v]) => [k.toLowerCase(), v] as const);
    entries.sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
