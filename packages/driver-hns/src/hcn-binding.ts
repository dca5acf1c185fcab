import { promisify } from 'node:util';
import { UnsupportedPlatformError } from '@switchyard/core';
import { HcnError } from './hcn-errors.js';

/** Where the HCN functions come from. Default: the Windows system DLLs. Tests point all three at the stand-in. */
export interface HcnLibraryPaths {
  /** Exports the Hcn* functions. Default `computenetwork.dll`. */
  computenetwork?: string;
  /** Exports HNSCall (the HNS version). Default `vmcompute.dll`. */
  vmcompute?: string;
  /** Exports CoTaskMemFree, which frees every string HCN returns. Default `ole32.dll`. */
  ole32?: string;
}

/** An open endpoint or namespace handle (an opaque pointer). */
export type HcnHandle = unknown;

type Callback = (error: unknown, result: number) => void;
type AsyncFn = { async: (...args: unknown[]) => void } & ((...args: unknown[]) => number);

/** The HCN calls Switchyard makes, each off the event loop, each turning failures into {@link HcnError}. */
export interface HcnApi {
  enumerateEndpoints(query: string): Promise<string[]>;
  enumerateNamespaces(query: string): Promise<string[]>;
  queryEndpoint(id: string, query: string): Promise<Record<string, unknown>>;
  queryNamespace(id: string, query: string): Promise<Record<string, unknown>>;
  modifyEndpoint(id: string, request: string): Promise<void>;
  hnsVersion(): Promise<{ major: number; minor: number }>;
}

function guid(id: string): { Data1: number; Data2: number; Data3: number; Data4: number[] } {
  const hex = id.replace(/[{}-]/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new TypeError(`"${id}" is not a GUID`);
  return {
    Data1: Number.parseInt(hex.slice(0, 8), 16),
    Data2: Number.parseInt(hex.slice(8, 12), 16),
    Data3: Number.parseInt(hex.slice(12, 16), 16),
    Data4: Array.from({ length: 8 }, (_, i) => Number.parseInt(hex.slice(16 + i * 2, 18 + i * 2), 16)),
  };
}

/** Throws for a failing HRESULT, and for an error record beside S_OK (HNS reports some failures that way). */
function check(call: string, hresult: number, record: string | null | undefined): void {
  if (hresult < 0 || (record !== null && record !== undefined && record.trim() !== '')) {
    throw new HcnError(call, hresult < 0 ? hresult : 0x80004005, record ?? undefined);
  }
}

/**
 * Loads the HCN C API through koffi on first use. Every returned string is declared with a
 * disposable type whose finalizer is CoTaskMemFree, so it is decoded and freed in one step; no
 * string pointer ever reaches JS. Blocking calls run on koffi's worker threads.
 */
export async function loadHcn(paths: HcnLibraryPaths = {}): Promise<HcnApi> {
  let koffi: typeof import('koffi');
  try {
    koffi = (await import('koffi')).default as unknown as typeof import('koffi');
  } catch (cause) {
    throw new UnsupportedPlatformError('the koffi package is missing; reinstall @switchyard/driver-hns', {
      cause,
    });
  }
  const load = (path: string) => {
    try {
      return koffi.load(path);
    } catch (cause) {
      throw new UnsupportedPlatformError(
        `cannot load ${path}: the hns driver needs Windows Server 2022 or later with the Host Networking Service (or a stand-in library for tests)`,
        { cause },
      );
    }
  };
  const hcn = load(paths.computenetwork ?? 'computenetwork.dll');
  const vmcompute = paths.vmcompute === paths.computenetwork ? hcn : load(paths.vmcompute ?? 'vmcompute.dll');
  const ole32 = paths.ole32 === paths.computenetwork ? hcn : load(paths.ole32 ?? 'ole32.dll');

  // koffi keeps type names in one registry per process; a second binding reuses them.
  const named = (name: string, make: () => unknown) => {
    try {
      return koffi.type(name);
    } catch {
      return make();
    }
  };
  named('HRESULT', () => koffi.alias('HRESULT', 'int32_t'));
  named('HCN_GUID', () =>
    koffi.struct('HCN_GUID', {
      Data1: 'uint32_t',
      Data2: 'uint16_t',
      Data3: 'uint16_t',
      Data4: koffi.array('uint8_t', 8),
    }),
  );
  const coTaskMemFree = ole32.func('void __stdcall CoTaskMemFree(void *pv)');
  const stringType = `HcnString_${Math.random().toString(36).slice(2)}`;
  koffi.disposable(stringType, 'str16', (ptr: unknown) => coTaskMemFree(ptr));

  const fn = (lib: typeof hcn, prototype: string) => {
    const f = lib.func(prototype.replaceAll('HcnString', stringType)) as unknown as AsyncFn;
    return promisify((...args: unknown[]) => f.async(...args.slice(0, -1), args.at(-1) as Callback)) as (
      ...args: unknown[]
    ) => Promise<number>;
  };
  const enumerateEndpoints = fn(
    hcn,
    'HRESULT __stdcall HcnEnumerateEndpoints(const char16_t *query, _Out_ HcnString *endpoints, _Out_ HcnString *errorRecord)',
  );
  const enumerateNamespaces = fn(
    hcn,
    'HRESULT __stdcall HcnEnumerateNamespaces(const char16_t *query, _Out_ HcnString *namespaces, _Out_ HcnString *errorRecord)',
  );
  const openEndpoint = fn(
    hcn,
    'HRESULT __stdcall HcnOpenEndpoint(const HCN_GUID *id, _Out_ void **endpoint, _Out_ HcnString *errorRecord)',
  );
  const openNamespace = fn(
    hcn,
    'HRESULT __stdcall HcnOpenNamespace(const HCN_GUID *id, _Out_ void **ns, _Out_ HcnString *errorRecord)',
  );
  const queryEndpointProperties = fn(
    hcn,
    'HRESULT __stdcall HcnQueryEndpointProperties(void *endpoint, const char16_t *query, _Out_ HcnString *properties, _Out_ HcnString *errorRecord)',
  );
  const queryNamespaceProperties = fn(
    hcn,
    'HRESULT __stdcall HcnQueryNamespaceProperties(void *ns, const char16_t *query, _Out_ HcnString *properties, _Out_ HcnString *errorRecord)',
  );
  const modifyEndpoint = fn(
    hcn,
    'HRESULT __stdcall HcnModifyEndpoint(void *endpoint, const char16_t *settings, _Out_ HcnString *errorRecord)',
  );
  const closeEndpoint = fn(hcn, 'HRESULT __stdcall HcnCloseEndpoint(void *endpoint)');
  const closeNamespace = fn(hcn, 'HRESULT __stdcall HcnCloseNamespace(void *ns)');
  const hnsCall = fn(
    vmcompute,
    'HRESULT __stdcall HNSCall(const char16_t *method, const char16_t *path, const char16_t *request, _Out_ HcnString *response)',
  );

  const list = async (call: string, f: (...a: unknown[]) => Promise<number>, query: string) => {
    const out: (string | null)[] = [null];
    const record: (string | null)[] = [null];
    check(call, await f(query, out, record), record[0]);
    return JSON.parse(out[0] ?? '[]') as string[];
  };

  const withHandle = async <T>(
    kind: 'Endpoint' | 'Namespace',
    id: string,
    use: (handle: HcnHandle) => Promise<T>,
  ): Promise<T> => {
    const handle: unknown[] = [null];
    const record: (string | null)[] = [null];
    check(
      `HcnOpen${kind}`,
      await (kind === 'Endpoint' ? openEndpoint : openNamespace)(guid(id), handle, record),
      record[0],
    );
    try {
      return await use(handle[0]);
    } finally {
      await (kind === 'Endpoint' ? closeEndpoint : closeNamespace)(handle[0]);
    }
  };

  const query = (kind: 'Endpoint' | 'Namespace') => (id: string, q: string) =>
    withHandle(kind, id, async (handle) => {
      const props: (string | null)[] = [null];
      const record: (string | null)[] = [null];
      const f = kind === 'Endpoint' ? queryEndpointProperties : queryNamespaceProperties;
      check(
        `Hcn${kind === 'Endpoint' ? 'QueryEndpointProperties' : 'QueryNamespaceProperties'}`,
        await f(handle, q, props, record),
        record[0],
      );
      return JSON.parse(props[0] ?? '{}') as Record<string, unknown>;
    });

  return {
    enumerateEndpoints: (q) => list('HcnEnumerateEndpoints', enumerateEndpoints, q),
    enumerateNamespaces: (q) => list('HcnEnumerateNamespaces', enumerateNamespaces, q),
    queryEndpoint: query('Endpoint'),
    queryNamespace: query('Namespace'),
    modifyEndpoint: (id, request) =>
      withHandle('Endpoint', id, async (handle) => {
        const record: (string | null)[] = [null];
        check('HcnModifyEndpoint', await modifyEndpoint(handle, request, record), record[0]);
      }),
    async hnsVersion() {
      const response: (string | null)[] = [null];
      check('HNSCall', await hnsCall('GET', '/globals/version', '', response), null);
      const parsed = JSON.parse(response[0] ?? '{}') as {
        Success?: boolean;
        Error?: string;
        Output?: Record<string, unknown>;
      };
      const output = parsed.Output ?? {};
      const major = Number(output.Major ?? output.major);
      const minor = Number(output.Minor ?? output.minor);
      if (!parsed.Success || !Number.isFinite(major)) {
        throw new UnsupportedPlatformError(
          `HNS did not report its version (${parsed.Error ?? 'no output'}); is the Host Networking Service running?`,
        );
      }
      return { major, minor: Number.isFinite(minor) ? minor : 0 };
    },
  };
}
