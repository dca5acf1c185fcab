import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';

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
 * Before that (during the handshake) a FIN is passed on as an end.
 */
export class TruncationGuard extends Duplex {
  readonly #raw: Socket;
  #tls: TLSSocket | undefined;
  #rawEnded = false;
  #decided = false;

  constructor(raw: Socket) {
    super({ allowHalfOpen: raw.allowHalfOpen });
    this.#raw = raw;
    raw.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) raw.pause();
    });
    raw.on('end', () => {
      this.#rawEnded = true;
      this.#decide();
    });
    raw.on('error', (error) => this.destroy(error));
    raw.on('close', () => this.destroy());
  }

  /** The TCP peer's address (the source a flood penalty is charged to). */
  get remoteAddress(): string | undefined {
    return this.#raw.remoteAddress;
  }

  /** Bytes read from the TCP socket (what the TLS record guard weighs against what TLS delivered). */
  get bytesRead(): number {
    return this.#raw.bytesRead;
  }

  /** Stops reading the TCP socket now (a flooding peer's next bytes are never decrypted). */
  stopReading(): void {
    (this.#raw as Socket & { _handle?: { readStop?(): void } })._handle?.readStop?.();
    this.#raw.pause();
  }

  /** The TLS socket running over this stream, once its handshake is done. */
  watch(tls: TLSSocket): void {
    this.#tls = tls;
  }

  /**
   * Once the TCP end is read and every byte before it went through TLS (a paused reader leaves
   * some here for a while): an end if TLS read a close_notify among them, else a failure.
   */
  #decide(): void {
    if (!this.#rawEnded || this.#decided || this.readableLength > 0) return;
    this.#decided = true;
    // TLS pushed its own end synchronously when the close_notify record went through;
    // `_readableState.ended` says so before 'end' is emitted (which waits for TLS's reader).
    const tls = this.#tls as (TLSSocket & { _readableState?: { ended?: boolean } }) | undefined;
    if (!tls || tls._readableState?.ended === true) this.push(null);
    else this.destroy(new TlsTruncatedError());
  }

  override _read(): void {
    if (this.#rawEnded) this.#decide();
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
