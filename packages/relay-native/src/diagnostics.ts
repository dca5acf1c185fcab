import { channel } from 'node:diagnostics_channel';

/**
 * Every diagnostics channel of the relay engine. Messages are batches: one publish per batch of
 * engine events, never one per chunk of bytes.
 */
export const RELAY_CHANNELS = {
  /** `{ closed: RelayClosedEvent[] }`: connections that ended, with byte counts and reasons. */
  closed: channel('switchyard:relay-native:closed'),
  /**
   * `{ handshakes: { id, spiffeId, protocol, resumed, admitted? }[] }`: TLS peers whose handshake
   * completed (`resumed`: from a session ticket); `admitted` (`accepted` or `refused`) when the
   * engine decided them from its admission table.
   */
  handshakes: channel('switchyard:relay-native:handshakes'),
  /**
   * `{ stream, authority, verdict, code }`: an HBONE stream the engine decided from its admission
   * table (`accepted`: dialled and relaying; `refused` with the table's code), as JavaScript hears it.
   */
  decidedStreams: channel('switchyard:relay-native:decided-streams'),
} as const;
