import { fileURLToPath } from 'node:url';
import {
  type Client,
  credentials,
  status as grpcStatus,
  loadPackageDefinition,
  Metadata,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { RuntimeUnavailableError } from '@switchyard/core';
import { DEFAULT_RUNTIME_ENDPOINTS, grpcTarget } from './endpoints.js';

/** Options of {@link connectCri}. */
export interface CriClientOptions {
  /** The runtime's endpoint (`unix:///run/containerd/containerd.sock`). Default: the usual ones, tried in order. */
  endpoint?: string;
  /** Deadline of every call, ms. Default 5000. */
  timeoutMs?: number;
}

/** A CRI `runtime.v1.RuntimeService` client with a deadline on every call. Field names are camelCase. */
export interface CriClient {
  /** The endpoint that answered. */
  readonly endpoint: string;
  /** What the runtime said about itself. */
  readonly version: { runtimeName: string; runtimeVersion: string; runtimeApiVersion: string };
  call<T = Record<string, unknown>>(method: string, request: Record<string, unknown>): Promise<T>;
  close(): void;
}

const PROTO = fileURLToPath(new URL('../proto/runtime-v1-subset.proto', import.meta.url));
type RuntimeServiceCtor = new (
  target: string,
  creds: ReturnType<typeof credentials.createInsecure>,
  options?: Record<string, number>,
) => Client;

/** The largest CRI answer read, as kubelet allows: 16 MiB (a node with many pods lists a lot). */
export const CRI_MAX_RECEIVE_BYTES = 16 * 1024 * 1024;
let serviceCtor: RuntimeServiceCtor | undefined;

function runtimeService(): RuntimeServiceCtor {
  if (serviceCtor) return serviceCtor;
  const definition = loadSync(PROTO, {
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = loadPackageDefinition(definition) as unknown as {
    runtime: { v1: { RuntimeService: RuntimeServiceCtor } };
  };
  serviceCtor = pkg.runtime.v1.RuntimeService;
  return serviceCtor;
}

function invoke<T>(client: Client, method: string, request: unknown, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (...a: unknown[]) => void>)[method];
    if (!fn) {
      reject(new Error(`unknown CRI method ${method}`));
      return;
    }
    fn.call(
      client,
      request,
      new Metadata(),
      { deadline: Date.now() + timeoutMs },
      (error: Error | null, response: T) => (error ? reject(error) : resolve(response)),
    );
  });
}

async function tryEndpoint(endpoint: string, timeoutMs: number) {
  const Service = runtimeService();
  const client = new Service(grpcTarget(endpoint), credentials.createInsecure(), {
    'grpc.max_receive_message_length': CRI_MAX_RECEIVE_BYTES,
  });
  try {
    const version = await invoke<{ runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }>(
      client,
      'version',
      { version: 'v1' },
      timeoutMs,
    );
    return { client, version };
  } catch (error) {
    client.close();
    throw error;
  }
}

/**
 * Connects to the container runtime over CRI v1: the given endpoint, or containerd's and CRI-O's
 * default ones in order. The first call (`Version`) proves the runtime speaks `runtime.v1`.
 *
 * @throws RuntimeUnavailableError listing every endpoint tried and why it failed, or saying the
 *   runtime speaks only an older CRI.
 */
export async function connectCri(options: CriClientOptions = {}): Promise<CriClient> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const candidates = options.endpoint
    ? [options.endpoint]
    : DEFAULT_RUNTIME_ENDPOINTS[process.platform === 'win32' ? 'windows' : 'linux'];
  const failures: string[] = [];
  for (const endpoint of candidates) {
    try {
      const { client, version } = await tryEndpoint(endpoint, timeoutMs);
      return {
        endpoint,
        version,
        call: (method, request) =>
          invoke(client, method.charAt(0).toLowerCase() + method.slice(1), request, timeoutMs),
        close: () => client.close(),
      };
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (code === grpcStatus.UNIMPLEMENTED) {
        throw new RuntimeUnavailableError(
          `the runtime at ${endpoint} does not serve CRI runtime.v1 (only an older CRI such as v1alpha2); upgrade it (containerd ≥ 1.6, CRI-O ≥ 1.23)`,
          { cause: error },
        );
      }
      failures.push(`${endpoint}: ${reasonOf(error)}`);
    }
  }
  throw new RuntimeUnavailableError(
    `no container runtime answered CRI at ${failures.length === 1 ? 'its endpoint' : 'any endpoint tried'}:\n  ${failures.join('\n  ')}\nstart the runtime, or give its endpoint (unix:///path/to/cri.sock, tcp://host:port)`,
  );
}

/**
 * Why an endpoint failed, without gRPC's wrapping: "No connection established. Last error:
 * Error: connect ENOENT /run/x.sock. Resolution note: " becomes "connect ENOENT /run/x.sock".
 */
function reasonOf(error: unknown): string {
  const text = (error as { details?: string }).details || (error as Error).message;
  return text
    .replace(/\s*Resolution note:\s*$/, '')
    .replace(/^No connection established\. Last error: (Error: )?/, '')
    .replace(/\.$/, '');
}

/** True when a CRI call failed because the id does not exist. */
export function isNotFound(error: unknown): boolean {
  return (error as { code?: number }).code === grpcStatus.NOT_FOUND;
}
