import type { CarrierContext } from '@switchyard/dataplane/carrier';
import type { RelayEngine } from '../relay-engine.js';
import type { TlsContext, TlsCredentials } from '../tls-credentials.js';
import { reportEngineHealth } from './engine-health.js';
import { RotatingTls } from './rotating-tls.js';

/**
 * What every carrier on the engine holds besides its connections, for one workload: the engine,
 * the workload's TLS context (rebuilt at each certificate rotation), the report of stalled engine
 * threads, and its share of a shared engine. `stop()` ends the rotation and the reports;
 * `release()` lets go of the engine, last.
 */
export class EngineCarrierParts {
  readonly engine: RelayEngine;
  readonly #tls: RotatingTls;
  readonly #stopHealth: () => void;
  readonly #release: () => void;

  /** `tls`: the groups and ALPN of every context of this workload. */
  constructor(
    context: CarrierContext,
    engine: RelayEngine,
    release: () => void,
    tls: Pick<TlsCredentials, 'groups' | 'alpn'>,
  ) {
    this.engine = engine;
    this.#release = release;
    this.#stopHealth = reportEngineHealth(engine, context);
    this.#tls = new RotatingTls(engine, context.workload.identity, tls);
  }

  /** The TLS context for a new connection. */
  get tls(): TlsContext {
    return this.#tls.current;
  }

  /** False while an engine thread is stalled: the data plane is not ready then. */
  get healthy(): boolean {
    return this.engine.stalledThreads.length === 0;
  }

  /** Stops following rotations and reporting stalls (a closing carrier, before it resets its connections). */
  stop(): void {
    this.#tls.stop();
    this.#stopHealth();
  }

  /** Lets go of the engine: a shared one closes with its last carrier. */
  release(): void {
    this.#release();
  }
}
