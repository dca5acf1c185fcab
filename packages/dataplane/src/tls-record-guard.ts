import type { TLSSocket } from 'node:tls';
import { TLS_RECORD_LIMITS, type TlsFlood, type TlsRecordLimits } from './tls-record-limits.js';

/** What the guard reads of the stream under TLS: a `net.Socket`, or a stream carrying one's bytes. */
export interface RawBytes {
  readonly bytesRead: number;
  /** Stops reading the TCP socket at once (a stream carrying a socket's bytes; a `net.Socket` has its handle). */
  stopReading?(): void;
}

/** What TLS 1.3 adds to each record: header (5), inner content type (1), AEAD tag (16). */
const RECORD_OVERHEAD = 22;
/** How often the empty-record budget of every guarded connection is checked (ms). */
const SWEEP_MS = 100;

interface Guarded {
  tls: TLSSocket;
  raw: RawBytes;
  raw0: number;
  plain0: number;
  /** Records without application data owed (each byte of data pays one back), leaking with time. */
  debt: number;
  /** Whether the debt was over the burst at the last check. */
  over: boolean;
  /** Records and bytes of application data since the handshake (what a short connection is judged by). */
  records: number;
  plain: number;
  at: number;
  limits: TlsRecordLimits;
  flood(kind: TlsFlood, detail: string): void;
}

const guarded = new Set<Guarded>();
let sweeper: NodeJS.Timeout | undefined;

/**
 * Node reads and decrypts records inside its TLS stream, where no per-record hook reaches: the
 * records are estimated from bytes, the socket's raw bytes against the application data they
 * carried (each record adds {@link RECORD_OVERHEAD}); a record is paid back by a byte of data,
 * so 1-byte records cost nothing here and a KeyUpdate or an empty record costs one. Padding
 * counts as records only where it outweighs the data (padding-only records).
 */
function sweep(): void {
  const now = Date.now();
  for (const g of guarded) check(g, now, 1);
  if (guarded.size === 0 && sweeper) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

/**
 * Records one read of the socket (64 KiB) may hold: ciphertext read but not yet decrypted at a
 * check looks like that many records without data, until the next check sees their data.
 */
const READ_RECORDS = (64 * 1024) / RECORD_OVERHEAD;

/**
 * Brings one connection's debt up to date and floods it over `share` of the burst: the whole
 * burst while it runs (at two checks running, unless over by more than a read's records: see
 * {@link READ_RECORDS}), half of it when it has closed (a connection the protocol above ended
 * first, with that many records owed, was flooding too: its source is penalized the same).
 */
function check(g: Guarded, now: number, share: number): void {
  const raw = g.raw.bytesRead;
  const plain = g.tls.bytesRead;
  const records = Math.max(0, raw - g.raw0 - (plain - g.plain0)) / RECORD_OVERHEAD;
  const { emptyRecordsPerSecond: rate, emptyRecordBurst: burst } = g.limits;
  g.debt = Math.max(0, g.debt + records - ((now - g.at) * rate) / 1000 - (plain - g.plain0));
  g.records += records;
  g.plain += plain - g.plain0;
  Object.assign(g, { raw0: raw, plain0: plain, at: now });
  const over = g.debt > burst * share;
  const flooding = over && (g.over || share < 1 || g.debt > burst + READ_RECORDS);
  g.over = over;
  if (flooding)
    g.flood(
      'empty-records',
      `more than ${rate} records a second (burst ${burst}) carrying no application data`,
    );
}

/** Records a closed connection may have sent, whatever it carried, before it is judged by them. */
const SHORT_LIVED_RECORDS = 64;

/**
 * A connection that ended (often ended by the protocol above, before the timer looked) having
 * sent at least {@link SHORT_LIVED_RECORDS} records and more than one and a half per byte of
 * application data: mostly empty records, as a flood that reconnects sends. A client sending one
 * byte a record stays under it (one record a byte, and the close_notify).
 */
function mostlyEmpty(g: Guarded): boolean {
  return g.records >= SHORT_LIVED_RECORDS && g.records > 1.5 * g.plain;
}

/**
 * Holds a TLS 1.3 connection whose handshake is done to {@link TlsRecordLimits}: KeyUpdates
 * counted exactly (Node's `keylog` event fires once for each traffic key the peer changes: its
 * OpenSSL logs every updated secret), records without data estimated on a shared timer. A peer over a
 * limit has the connection destroyed with an error (after the current read: never inside Node's
 * TLS code) and `onFlood` is called once. `raw` is the TCP socket under `tls`; `role` is ours.
 */
export function guardTlsRecords(
  tls: TLSSocket,
  raw: RawBytes,
  role: 'server' | 'client',
  onFlood: (kind: TlsFlood, detail: string) => void,
  limits: TlsRecordLimits = TLS_RECORD_LIMITS,
): void {
  let flooded = false;
  const g: Guarded = {
    tls,
    raw,
    raw0: raw.bytesRead,
    plain0: tls.bytesRead,
    debt: 0,
    over: false,
    records: 0,
    plain: 0,
    at: Date.now(),
    limits,
    flood(kind, detail) {
      if (flooded) return;
      flooded = true;
      guarded.delete(g);
      onFlood(kind, detail);
      // Not inside Node's TLS code (this may run in its keylog callback, within SSL_read): paused
      // and no longer read now, so none of its data is delivered and only the chunk in hand is
      // decrypted, then destroyed once that read is over.
      tls.pause();
      tls.removeAllListeners('keylog');
      const under = raw as RawBytes & { _handle?: { readStop?(): void } };
      under._handle?.readStop?.();
      under.stopReading?.();
      setImmediate(() => tls.destroy(new Error(`TLS flood (${kind}): ${detail}`)));
    },
  };
  const label = Buffer.from(role === 'server' ? 'CLIENT_TRAFFIC_SECRET_N ' : 'SERVER_TRAFFIC_SECRET_N ');
  let window = 0;
  let updates = 0;
  tls.on('keylog', (line: Buffer) => {
    if (!line.subarray(0, label.length).equals(label)) return; // the line (a secret) is never kept
    const now = Date.now();
    if (now - window >= 60_000) [window, updates] = [now, 0];
    if (++updates > limits.keyUpdatesPerMinute)
      g.flood('key-updates', `more than ${limits.keyUpdatesPerMinute} key updates in a minute`);
  });
  guarded.add(g);
  tls.once('close', () => {
    if (!guarded.delete(g)) return;
    check(g, Date.now(), 0.5);
    if (!flooded && mostlyEmpty(g))
      g.flood('empty-records', 'closed after sending mostly records without application data');
  });
  sweeper ??= setInterval(sweep, SWEEP_MS).unref();
}
