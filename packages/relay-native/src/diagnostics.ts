import { channel } from 'node:diagnostics_channel';

/**
 * Every diagnostics channel of the relay engine. Messages are batches: one publish per batch of
 * engine events, never one per chunk of bytes.
 */
export const RELAY_CHANNELS = {
  /** `{ closed: RelayClosedEvent[] }`: connections that ended, with byte counts and reasons. */
  closed: channel('switchyard:relay-native:closed'),
  /** `{ handshakes: { id, spiffeId, protocol }[] }`: TLS peers whose handshake completed. */
  handshakes: channel('switchyard:relay-native:handshakes'),
} as const;
