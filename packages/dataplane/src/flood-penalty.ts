import { unmapAddress } from './listen.js';

/**
 * How long a source is held off (ms): `first` after its first TLS flood, doubled for each further
 * one up to `most`; a source whose last flood is `forget` old starts again from `first`.
 */
const HOLD = Object.freeze({ first: 1_000, most: 30_000, forget: 60_000 });

interface Strikes {
  floods: number;
  last: number;
  until: number;
}

/**
 * Sources whose connections were reset for a TLS flood: each flood holds the source's new
 * connections off for a while (1 s, doubling up to 30 s), so an attacker that reconnects after
 * every reset cannot make the proxy pay a handshake and a flood again at once. Other sources are
 * never affected; a source that stops flooding is forgotten after a minute.
 */
export class FloodPenalty {
  readonly #sources = new Map<string, Strikes>();

  /** Records a flood from `address`. */
  strike(address: string | undefined, now = Date.now()): void {
    if (!address) return;
    const source = unmapAddress(address);
    const old = this.#sources.get(source);
    const floods = old && now - old.last < HOLD.forget ? old.floods + 1 : 1;
    const hold = Math.min(HOLD.most, HOLD.first * 2 ** (floods - 1));
    this.#sources.set(source, { floods, last: now, until: now + hold });
    if (this.#sources.size > 4_096) this.#forget(now);
  }

  /** How long `address` is still held off (ms), 0 when it is not. */
  heldOff(address: string | undefined, now = Date.now()): number {
    const strikes = address ? this.#sources.get(unmapAddress(address)) : undefined;
    return strikes ? Math.max(0, strikes.until - now) : 0;
  }

  #forget(now: number): void {
    for (const [source, s] of this.#sources) if (now - s.last >= HOLD.forget) this.#sources.delete(source);
  }
}
