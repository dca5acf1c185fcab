import {
  type DataPlane,
  type DataPlaneMetrics,
  type Direction,
  sidecarPlane,
  type WorkloadConfig,
  type WorkloadStatus,
} from '@switchyard/dataplane';
import { mtlsCarrier } from './mtls-carrier.js';
import type { MtlsSidecarOptions } from './options.js';

/** The workload id a sidecar serves (one workload per sidecar). */
const SIDECAR_WORKLOAD = 'sidecar';

/**
 * The transparent mTLS sidecar: a one-workload {@link DataPlane} with the mtls carrier.
 * Outbound: captured plain TCP to a mesh destination leaves as TLS 1.3 with the workload's
 * certificate, after the server's SPIFFE identity is checked. Inbound: mTLS from peers is
 * terminated, the peer's identity authorized, and the bytes handed to the app at the original
 * destination, from the client's own address where the driver can. A TLS or identity failure
 * closes the connection: nothing falls back to plaintext unless the options say so
 * (`passthroughOutsideMesh`, `plaintextSources`, `plaintextPorts`).
 *
 * Without an identity resolver the sidecar accepts any server identity of its trust domain
 * (allowed further by `outbound.authorization`): pass `identities` to pin each destination.
 */
export class MtlsSidecar {
  readonly #o: MtlsSidecarOptions;
  readonly #plane: DataPlane;
  #started = false;
  #addresses: { direction: Direction; address: string; port: number }[] = [];

  constructor(options: MtlsSidecarOptions) {
    if (!options.inbound && !options.outbound)
      throw new TypeError('MtlsSidecar needs inbound and/or outbound options');
    this.#o = options;
    this.#plane = sidecarPlane(options, 'mtls-proxy');
  }

  /** The sidecar's metrics (one registry; series labelled `workload="sidecar"`). */
  get metrics(): DataPlaneMetrics {
    return this.#plane.metrics;
  }

  /** The workload identity this sidecar presents. */
  get identity(): string {
    return this.#o.certificates.current.spiffeId;
  }

  /** True while running and not draining: what the readiness endpoint reports. */
  get ready(): boolean {
    return this.#plane.ready;
  }

  /** What the admin `/status` shows: its workload's state, SPIFFE ID, listeners and open connections. */
  status(): WorkloadStatus | undefined {
    return this.#plane.workload(SIDECAR_WORKLOAD);
  }

  /** What the admin `/config` shows: certificate, trust bundle, listeners, policy, recent denials. */
  config(): WorkloadConfig | undefined {
    return this.#plane.workloadConfig(SIDECAR_WORKLOAD);
  }

  /** Connections open now, per direction. */
  get activeConnections(): Readonly<Record<Direction, number>> {
    return this.#status()?.active ?? { inbound: 0, outbound: 0 };
  }

  /** The addresses the sidecar listens on. */
  addresses(): { direction: Direction; address: string; port: number }[] {
    return [...this.#addresses];
  }

  /** Opens the listeners. Resolves when every listener is up. */
  async start(): Promise<void> {
    if (this.#started) throw new Error('MtlsSidecar.start() may be called once');
    this.#started = true;
    const { inbound, outbound } = this.#o;
    const status = await this.#plane.addWorkload({
      id: SIDECAR_WORKLOAD,
      identity: this.#o.certificates,
      carrier: this.#o.carrier ?? mtlsCarrier(),
      ...(this.#o.target ? { target: this.#o.target } : {}),
      policy: { ...(inbound ? { inbound } : {}), ...(outbound ? { outbound } : {}) },
    });
    this.#addresses = status.listeners.map((l) => ({
      direction: l.role as Direction,
      address: l.address,
      port: l.port,
    }));
  }

  /**
   * Graceful stop: stop accepting at once, let open connections finish for up to `deadlineMs`,
   * then reset what is left. Resolves when everything is closed.
   */
  drain(deadlineMs = this.#plane.timeouts.drain): Promise<void> {
    return this.#plane.close(deadlineMs);
  }

  /** Stops at once, resetting open connections. */
  close(): Promise<void> {
    return this.drain(0);
  }

  #status(): WorkloadStatus | undefined {
    return this.#plane.workload(SIDECAR_WORKLOAD);
  }
}
