/** Where container runtimes listen by default, tried in this order when no endpoint is given. */
export const DEFAULT_RUNTIME_ENDPOINTS: Readonly<Record<'linux' | 'windows', readonly string[]>> = {
  linux: [
    'unix:///run/containerd/containerd.sock',
    'unix:///run/crio/crio.sock',
    'unix:///var/run/cri-dockerd.sock',
  ],
  windows: ['npipe:////./pipe/containerd-containerd'],
};

/**
 * Turns a CRI endpoint as kubelet and crictl write it into a gRPC target for @grpc/grpc-js:
 * `unix:///path` and `/path` → `unix:/path`; `npipe:////./pipe/name` → the named pipe path, which
 * Node's `net` opens like a socket on Windows; `tcp://host:port` (crictl's form) → `host:port`.
 */
export function grpcTarget(endpoint: string): string {
  if (endpoint.startsWith('unix://')) return `unix:${endpoint.slice('unix://'.length)}`;
  if (endpoint.startsWith('tcp://')) return endpoint.slice('tcp://'.length);
  if (endpoint.startsWith('/')) return `unix:${endpoint}`;
  if (endpoint.startsWith('npipe://')) {
    const pipe = endpoint.slice('npipe://'.length).replace(/^\/+/, '').replaceAll('/', '\\');
    return `unix:\\\\${pipe}`;
  }
  return endpoint;
}
