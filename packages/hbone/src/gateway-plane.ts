import type { Target } from '@switchyard/core';
import type { DataPlaneMetrics, SidecarPlaneOptions } from '@switchyard/dataplane';
import type { CertificateStore } from '@switchyard/mesh';
import { HboneSidecar, type HboneSidecarOptions } from './hbone-sidecar.js';

/** What a gateway on its own takes: a one-workload data plane's options and its identity. */
export interface GatewayPlaneOptions extends SidecarPlaneOptions {
  /** The gateway's own identity. */
  certificates: CertificateStore;
  host?: string;
  target?: Target;
}

/**
 * A gateway listener on its own (the SNI gateway, the reverse-tunnel acceptor): a one-workload
 * data plane whose hbone carrier serves only that listener, so its limits, drain, rotation and
 * metrics are the data plane's. Silent unless given a `log`.
 */
export class GatewayPlane {
  protected readonly sidecar: HboneSidecar;

  constructor(o: GatewayPlaneOptions, listener: Pick<HboneSidecarOptions, 'sniGateway' | 'reverseTunnel'>) {
    const { certificates, host, target, ...plane } = o;
    this.sidecar = new HboneSidecar({
      ...plane,
      log: plane.log ?? (() => undefined),
      certificates,
      ...(host ? { host } : {}),
      ...(target ? { target } : {}),
      ...listener,
    });
  }

  /** The data plane's metrics, where the gateway's connections are counted. */
  get metrics(): DataPlaneMetrics {
    return this.sidecar.metrics;
  }

  async start(): Promise<void> {
    await this.sidecar.start();
  }

  /** Stops at once: what is open is reset. */
  async close(): Promise<void> {
    await this.sidecar.close();
  }
}
