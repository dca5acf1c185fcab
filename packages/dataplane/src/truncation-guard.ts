import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { TlsRecordCutter } from './tls-record-cutter.js';

/**
 * TLS records one connection hands its TLS layer in one turn of the event loop; the rest waits
 * for the next turn (the TCP socket paused meanwhile). Node's TLS decrypts a whole read (up to
 * 64 KiB: some 2,800 records of one byte) at once, each record a callback and a write: without
 * this bound a peer sending tiny records holds the loop for every other connection. Full records
 * (16 KiB) never wait: 64 of them are more than a read.
 */
export const TLS_RECORDS_PER_TURN = 64;

/** The peer's TCP connection ended without a TLS close_notify: what it sent may be cut short. */
export class TlsTruncatedError extends Error {
  override readonly name = 'TlsTruncatedError';
  readonly code = 'SWY_ERR_TLS_TRUNCATED';
  constructor() {
    super('the peer closed its TCP connection without a TLS close_notify: the stream was truncated');
  }
}

/**
 * The ciphertext of one accepted connection, carried to its TLS layer by JavaScript so the TCP
 * end is seen apart from TLS's: Node's native TLS reports a FIN without close_notify exactly as
 * a close_notify (one EOF, no shutdown state), so a truncated stream would look finished. Once
 * {@link TruncationGuard.watch} names the TLS socket, a FIN that comes without TLS having read a
 * close_notify before it fails the TLS socket (an error, so the relay resets the app) instead of
 * ending it.
 * Before that (during the handshake) a FIN is passed on as an end. The ciphertext is handed on
 * {@link TLS_RECORDS_PER_TURN} records at a time, one batch a turn of the event loop.
 */
export class TruncationGuard extends Duplex {
  readonly #raw: Socket;
  #tls: TLSSocket | undefined;
  #rawEnded = false;
  #decided = false;
  readonly #records = new TlsRecordCutter();
  /** Ciphertext read but not handed on yet (over this turn's records), and whether TLS is full. */
  #backlog: Buffer | undefined;
  #full = false;
  #scheduled = false;
  /** The TCP socket closed cleanly while ciphertext waited here: destroyed once it went on. */
  #rawClosed = false;
  readonly #recordsPerTurn: number;

  /**
   * `recordsPerTurn`: records handed to TLS at once (default {@link TLS_RECORDS_PER_TURN}); each
   * hand-over is one `data` event of this stream, after which its plaintext has been processed.
   */
  constructor(raw: Socket, recordsPerTurn = TLS_RECORDS_PER_TURN) {
    super({ allowHalfOpen: raw.allowHalfOpen });
    this.#raw = raw;
    this.#recordsPerTurn = recordsPerTurn;
    raw.on('data', (chunk: Buffer) => {
      if (this.#backlog) this.#backlog = Buffer.concat([this.#backlog, chunk]);
      else this.#forward(chunk);
    });
    raw.on('end', () => {
      this.#rawEnded = true;
      this.#decide();
    });
    raw.on('error', (error) => this.destroy(error));
    raw.on('close', (hadError: boolean) => {
      // a socket closed after its end: what it sent still goes on, a turn at a time
      if (this.#backlog && !hadError) this.#rawClosed = true;
      else this.destroy();
    });
  }

  /** The TCP peer's address (the source a flood penalty is charged to). */
  get remoteAddress(): string | undefined {
    return this.#raw.remoteAddress;
  }

  /**
   * Bytes of the TCP socket handed to TLS (what the TLS record guard weighs against what TLS
   * delivered): those read from the kernel and still waiting, in the paused socket or here, are
   * not counted.
   */
  get bytesRead(): number {
    const waiting = this.#raw.readableLength + (this.#backlog?.length ?? 0) + this.readableLength;
    return this.#raw.bytesRead - waiting;
  }

  /** Stops reading the TCP socket now (a flooding peer's next bytes are never decrypted). */
  stopReading(): void {
    (this.#raw as Socket & { _handle?: { readStop?(): void } })._handle?.readStop?.();
    this.#raw.pause();
    this.#backlog = undefined;
  }

  /** Hands TLS this turn's records of `chunk`; the rest waits for the next turn. */
  #forward(chunk: Buffer): void {
    const end = this.#records.cut(chunk, this.#recordsPerTurn);
    if (end < chunk.length) {
      this.#backlog = chunk.subarray(end);
      this.#raw.pause();
      this.#schedule();
    }
    if (!this.push(end < chunk.length ? chunk.subarray(0, end) : chunk)) {
      this.#full = true;
      this.#raw.pause();
    }
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#nextTurn);
  }

  readonly #nextTurn = (): void => {
    this.#scheduled = false;
    const chunk = this.#backlog;
    if (!chunk || this.destroyed || this.#full) return; // a full TLS layer asks again (_read)
    this.#backlog = undefined;
    this.#forward(chunk);
    if (this.#backlog || this.#full) return;
    if (this.#rawEnded) this.#decide();
    else this.#raw.resume();
    if (this.#rawClosed) this.destroy();
  };

  /** The TLS socket running over this stream, once its handshake is done. */
  watch(tls: TLSSocket): void {
    this.#tls = tls;
  }

  /**
   * Once the TCP end is read and every byte before it went through TLS (a paused reader leaves
   * some here for a while): an end if TLS read a close_notify among them, else a failure.
   */
  #decide(): void {
    if (!this.#rawEnded || this.#decided || this.readableLength > 0 || this.#backlog) return;
    this.#decided = true;
    // TLS pushed its own end synchronously when the close_notify record went through;
    // `_readableState.ended` says so before 'end' is emitted (which waits for TLS's reader).
    const tls = this.#tls as (TLSSocket & { _readableState?: { ended?: boolean } }) | undefined;
    if (!tls || tls._readableState?.ended === true) this.push(null);
    else this.destroy(new TlsTruncatedError());
  }

  override _read(): void {
    this.#full = false;
    if (this.#backlog) this.#schedule();
    else if (this.#rawEnded) this.#decide();
    else this.#raw.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.#raw.write(chunk, done);
  }

  override _final(done: (error?: Error | null) => void): void {
    this.#raw.end();
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    if (!this.#raw.destroyed) this.#raw.destroy();
    done(error);
  }
}
