import type { Http2Session } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { HBONE_LIMITS } from './settings.js';

/** The numbers of {@link ControlFrameBudget}: see {@link HBONE_LIMITS}. */
export type ControlFrameLimits = Pick<typeof HBONE_LIMITS, 'controlBytesPerSecond' | 'controlByteBurst'>;

/**
 * Bounds what a peer sends on one HTTP/2 connection besides DATA (WINDOW_UPDATE, PING, SETTINGS,
 * HEADERS, RST_STREAM, empty DATA frames…): Node's HTTP/2 reads those natively with no per-frame
 * hook, so their bytes are counted instead, the plaintext TLS handed HTTP/2 minus the DATA
 * payload it received (read from the connection's flow-control window, so DATA for streams
 * already closed counts as DATA too), in a token bucket. It is checked each time TLS has been
 * handed ciphertext (the `data` event of the stream under TLS, which fires after TLS and HTTP/2
 * processed it), never by a timer: a flooding peer gets at most the bucket and one hand-over's
 * plaintext (at most {@link HBONE_LIMITS.recordsPerCheck} records) of frames processed, 9 bytes
 * or more each.
 */
export class ControlFrameBudget {
  readonly #session: Http2Session;
  readonly #tls: TLSSocket;
  readonly #limits: ControlFrameLimits;
  #tokens: number;
  #at = performance.now();
  #read: number;
  /** DATA received since our last connection WINDOW_UPDATE, at the last check. */
  #received: number;

  constructor(session: Http2Session, tls: TLSSocket, limits: ControlFrameLimits = HBONE_LIMITS) {
    this.#session = session;
    this.#tls = tls;
    this.#limits = limits;
    this.#tokens = limits.controlByteBurst;
    this.#read = tls.bytesRead;
    this.#received = this.#receivedData();
  }

  /** nghttp2's count of DATA payload received since we last opened the connection window. */
  #receivedData(): number {
    return this.#session.state.effectiveRecvDataLength ?? 0;
  }

  /** Whether the peer sent more than the bucket holds since the last check. */
  spent(): boolean {
    const now = performance.now();
    const read = this.#tls.bytesRead;
    const received = this.#receivedData();
    // A connection WINDOW_UPDATE of ours (once per half window of DATA) lowered the count: what
    // this hand-over carried is taken as DATA, so at most a hand-over in 8 MiB of DATA escapes.
    const data = received >= this.#received ? received - this.#received : read - this.#read;
    const refill = ((now - this.#at) * this.#limits.controlBytesPerSecond) / 1000;
    this.#tokens =
      Math.min(this.#limits.controlByteBurst, this.#tokens + refill) - (read - this.#read - data);
    this.#at = now;
    this.#read = read;
    this.#received = received;
    return this.#tokens < 0;
  }

  /**
   * Checks the budget after each hand-over of ciphertext on `carried` (the stream under TLS).
   * At the first check over the budget, stops reading the peer (nothing more it sent is
   * processed; what we write still leaves, a GOAWAY) and calls `flooded`, once.
   */
  watch(carried: Duplex & { stopReading?(): void }, flooded: () => void): void {
    const check = () => {
      if (!this.spent()) return;
      carried.off('data', check);
      carried.stopReading?.();
      flooded();
    };
    carried.on('data', check);
  }
}
