/**
 * What a TLS 1.3 peer may send once its handshake is done, on every carrier (the native engine
 * applies the same numbers). A peer over either limit has its connection reset and counted in
 * `switchyard_tls_floods_total{reason}`. Records that do carry data, however small, are not
 * limited: they are bounded by fairness (the engine's per-turn budget), as any traffic is.
 */
export interface TlsRecordLimits {
  /** KeyUpdate messages in any one minute (legitimate peers send them rarely, to renew keys). */
  keyUpdatesPerMinute: number;
  /**
   * Records carrying no application data (KeyUpdates, alerts, empty or padding-only data records)
   * a second, sustained. Each byte of application data pays one such record back.
   */
  emptyRecordsPerSecond: number;
  /** Records carrying no application data allowed at once above the sustained rate. */
  emptyRecordBurst: number;
}

/** The defaults of {@link TlsRecordLimits}. */
export const TLS_RECORD_LIMITS: Readonly<TlsRecordLimits> = Object.freeze({
  keyUpdatesPerMinute: 32,
  emptyRecordsPerSecond: 100,
  emptyRecordBurst: 256,
});

/** Which limit a peer crossed: the `reason` of `switchyard_tls_floods_total`. */
export type TlsFlood = 'key-updates' | 'empty-records';
