// Test support (not exported): an HBONE server on a loopback port, as the tests used to make
// with `new HboneServer(...)`, now a one-workload data plane with the hbone carrier.
import { loopbackSocketOps } from '@switchyard/core/memory';
import type { ConnectionReport } from '@switchyard/dataplane';
import type { CertificateStore } from '@switchyard/mesh';
import { HboneSidecar, type HboneSidecarOptions } from './hbone-sidecar.js';

/** What the tests use of a server. */
export interface TestServer {
  sidecar: HboneSidecar;
  port: number;
  metrics: HboneSidecar['metrics'];
  readonly sessionCount: number;
  close(): Promise<void>;
}

/** Starts an HBONE-only sidecar on 127.0.0.1 with a free port. */
export async function startTestServer(
  certificates: CertificateStore,
  options: Partial<HboneSidecarOptions> & { onTunnel?: (e: ConnectionReport) => void } = {},
): Promise<TestServer> {
  const { onTunnel, ...rest } = options;
  const sidecar = new HboneSidecar({
    socketOps: loopbackSocketOps(),
    certificates,
    hbonePort: 0,
    host: '127.0.0.1',
    accessLog: onTunnel !== undefined,
    // Tests read events, not log lines: only access lines go anywhere, to `onTunnel`.
    log: (line) => {
      if (line.msg === 'connection') onTunnel?.(line as unknown as ConnectionReport);
    },
    ...rest,
  });
  await sidecar.start();
  return {
    sidecar,
    port: sidecar.port('hbone'),
    metrics: sidecar.metrics,
    get sessionCount() {
      return sidecar.server?.sessionCount ?? 0;
    },
    close: () => sidecar.close(),
  };
}
