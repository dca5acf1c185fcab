/**
 * What a TLS 1.3 peer may send once its handshake is done, on every carrier (the native engine
 * applies the same numbers). A peer over either limit has its connection reset and counted in
 * `switchyard_tls_floods_total{reason}`.
 */
export interface TlsRecordLimits {
  /** KeyUpdate messages in any one minute (legitimate peers send them rarely, to renew keys). */
  keyUpdatesPerMinute: number;
  /** Small records (see `smallRecordBytes`) a second, sustained. */
  smallRecordsPerSecond: number;
  /** Small records allowed at once above the sustained rate. */
  smallRecordBurst: number;
  /**
   * A record carrying fewer bytes of application data than this is small (KeyUpdates and other
   * records carrying none included); bytes of data in larger records pay back small ones.
   */
  smallRecordBytes: number;
}

/** The defaults of {@link TlsRecordLimits}. */
export const TLS_RECORD_LIMITS: Readonly<TlsRecordLimits> = Object.freeze({
  keyUpdatesPerMinute: 32,
  smallRecordsPerSecond: 1_000,
  smallRecordBurst: 4_096,
  smallRecordBytes: 64,
});

/** Which limit a peer crossed: the `reason` of `switchyard_tls_floods_total`. */
export type TlsFlood = 'key-updates' | 'small-records';
