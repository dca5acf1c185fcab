/** A TLS record's header: content type (1), legacy version (2), length (2). */
const HEADER = 5;

/**
 * Follows the TLS record boundaries of a stream of ciphertext chunks from their headers alone
 * (nothing is decrypted or copied): where, in the next chunk, a given number of records ends.
 * What a stream under TLS needs to hand its TLS layer a bounded number of records at a time.
 */
export class TlsRecordCutter {
  /** Bytes of the current record still to come (its body, once its header is read). */
  #bodyLeft = 0;
  /** Bytes of the current header read so far, and its length field's bytes. */
  #headerAt = 0;
  #length = 0;

  /**
   * Walks `chunk` as the stream's next bytes until `records` records have ended in it, and
   * returns the offset just after the last of them (the bytes after it are not walked: pass them
   * again), or `chunk.length` when fewer end in it (all of it walked).
   */
  cut(chunk: Buffer, records: number): number {
    let at = 0;
    let ended = 0;
    while (at < chunk.length) {
      if (this.#headerAt < HEADER) {
        const byte = chunk[at] as number;
        at += 1;
        this.#headerAt += 1;
        if (this.#headerAt === 4) this.#length = byte << 8;
        else if (this.#headerAt === HEADER) this.#bodyLeft = this.#length | byte;
        if (this.#headerAt < HEADER || this.#bodyLeft > 0) continue;
      } else {
        const take = Math.min(this.#bodyLeft, chunk.length - at);
        at += take;
        this.#bodyLeft -= take;
        if (this.#bodyLeft > 0) continue;
      }
      this.#headerAt = 0;
      ended += 1;
      if (ended === records) return at;
    }
    return chunk.length;
  }
}
