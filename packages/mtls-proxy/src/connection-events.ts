import { channel } from 'node:diagnostics_channel';
import type { Direction } from '@switchyard/mesh';

/** What the sidecar publishes for each finished or refused connection. */
export interface ConnectionEvent {
  direction: Direction;
  /** `spliced` (carried and closed), `denied` (authorization), `refused` (policy or limit), `failed` (TLS or connect). */
  outcome: 'spliced' | 'denied' | 'refused' | 'failed';
  /** The client's address. */
  source?: string;
  /** Where the connection was going. */
  destination?: string;
  /** The peer's SPIFFE ID, when TLS got that far. */
  peer?: string;
  /** Why, for anything but `spliced`. */
  reason?: string;
  /** Bytes client → server and server → client. */
  up?: number;
  down?: number;
}

/**
 * Per-connection events go to this diagnostics channel instead of the log, so the hot path costs
 * nothing unless someone subscribes (`diagnostics_channel.subscribe('switchyard:mtls:connection', fn)`).
 */
export const connectionChannel = channel('switchyard:mtls:connection');
