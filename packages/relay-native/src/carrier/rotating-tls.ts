import type { CertificateStore, WorkloadCertificate } from '@switchyard/mesh';
import type { RelayEngine } from '../relay-engine.js';
import type { TlsContext, TlsCredentials } from '../tls-credentials.js';

/**
 * A workload's engine TLS context, rebuilt at each certificate rotation: new connections get the
 * new one, open ones keep theirs. `stop()` unsubscribes.
 */
export class RotatingTls {
  #current: TlsContext;
  readonly #identity: CertificateStore;
  readonly #build: (cert: WorkloadCertificate) => TlsContext;
  readonly #onRotated = (cert: WorkloadCertificate) => {
    this.#current = this.#build(cert);
  };

  /** `extra`: the groups and ALPN every context of this workload uses. */
  constructor(
    engine: RelayEngine,
    identity: CertificateStore,
    extra: Pick<TlsCredentials, 'groups' | 'alpn'>,
  ) {
    const { groups, alpn } = extra;
    this.#identity = identity;
    this.#build = (cert) =>
      engine.createTlsContext({
        cert: cert.chain,
        key: cert.key,
        ca: cert.bundle,
        ...(groups ? { groups } : {}),
        ...(alpn ? { alpn } : {}),
      });
    this.#current = this.#build(identity.current);
    identity.on('rotated', this.#onRotated);
  }

  /** The context for a new connection. */
  get current(): TlsContext {
    return this.#current;
  }

  stop(): void {
    this.#identity.off('rotated', this.#onRotated);
  }
}
