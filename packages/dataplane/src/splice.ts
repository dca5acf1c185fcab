import { addAbortSignal, type Duplex } from 'node:stream';

/** Bytes moved by a finished {@link splice}. */
export interface SpliceResult {
  /** Bytes read from `a` and written to `b`. */
  aToB: number;
  /** Bytes read from `b` and written to `a`. */
  bToA: number;
  /** The first error on either side, or why one side was cut, if any. */
  error?: Error;
  /** The side whose data ended first (cleanly), if either did. */
  firstEnded?: 'a' | 'b';
}

/** A TLS 1.3 application-data record the peer cannot decrypt (bad MAC): its TLS fails loudly. */
const POISON_RECORD = Buffer.from([0x17, 0x03, 0x03, 0x00, 0x13, ...new Array(19).fill(0xee)]);

/**
 * Ends a stream so its far end sees an error, never a clean end: a TCP socket is reset (RST);
 * a TLS socket gets, under its encryption, a record its peer cannot decrypt — TLS has no abort
 * that Node exposes, a TCP reset under a live TLS layer crashes Node, and a bare close looks
 * like a clean end because Node ignores a missing close_notify; an HTTP/2 stream gets
 * RST_STREAM CANCEL; anything else is destroyed.
 */
export function abort(stream: Duplex): void {
  const tcp = stream as Duplex & { resetAndDestroy?: () => void; encrypted?: boolean; _parent?: Duplex };
  if (tcp.encrypted === true) {
    // `_parent` is the socket under the TLS layer (not public API, stable since Node 0.11).
    const raw = tcp._parent;
    if (raw && !raw.destroyed && raw.writable) {
      raw.write(POISON_RECORD, () => stream.destroy());
      return;
    }
    stream.destroy();
    return;
  }
  if (typeof tcp.resetAndDestroy === 'function') {
    try {
      tcp.resetAndDestroy();
      return;
    } catch {
      // Not a TCP handle: fall through.
    }
  }
  // An HTTP/2 stream destroyed without an error is reset with its session's GOAWAY code:
  // NO_ERROR during a drain, which a client may take for the end of a complete answer. Destroyed
  // by an abort (as `addAbortSignal` does), Node resets it with CANCEL; close(CANCEL) would send
  // END_STREAM first. The abort is emitted as an error, so only where one is listened for.
  if ('rstCode' in stream && !stream.destroyed && stream.listenerCount('error') > 0) {
    addAbortSignal(AbortSignal.abort(), stream);
    return;
  }
  stream.destroy();
}

/** An HTTP/2 stream reset by its peer (RST_STREAM) may still read as ended: `aborted` tells. */
const aborted = (stream: Duplex) => (stream as Duplex & { aborted?: boolean }).aborted === true;

type Counted = Duplex & { bytesRead?: number; bytesWritten?: number };

/**
 * Bytes that went from `from` to `to`: what `from` read (for TLS sockets Node counts plaintext,
 * which is what we want), or, for a stream that keeps no count (an HTTP/2 stream), what `to` wrote.
 */
function moved(from: Duplex, to: Duplex): number {
  return (from as Counted).bytesRead ?? (to as Counted).bytesWritten ?? 0;
}

/**
 * Corks `to` while the chunks `from` emits in one go are written (Node's TLS emits each record
 * of a read as a chunk of its own): they leave as one write, not a system call (and, with
 * TCP_NODELAY, a packet) each, as tiny records from a peer would otherwise make them.
 */
function coalesce(from: Duplex, to: Duplex): void {
  let corked = false;
  const uncork = () => {
    corked = false;
    to.uncork();
  };
  from.on('data', () => {
    if (corked || to.destroyed) return;
    corked = true;
    to.cork();
    process.nextTick(uncork);
  });
}

/**
 * Joins two streams both ways with back-pressure (a slow reader pauses the other side's reads)
 * and half-close (one side's end becomes the other's end, while the other direction keeps
 * flowing). An error on either side, or one closing before its data ended, aborts the other
 * (a TCP side is reset, a TLS side fails), so the app learns the transfer was cut.
 * Resolves when both sides are closed.
 * Both streams should be created with `allowHalfOpen: true`.
 */
export function splice(a: Duplex, b: Duplex): Promise<SpliceResult> {
  return new Promise((resolve) => {
    const result: SpliceResult = { aToB: 0, bToA: 0 };
    // A side already gone will never emit 'close' again: abort the other now, or it leaks.
    if (a.destroyed || b.destroyed) {
      abort(a);
      abort(b);
      resolve({ ...result, error: new Error('one side closed before the two were joined') });
      return;
    }
    let closed = 0;
    const fail = (error: Error) => {
      result.error ??= error;
      abort(a);
      abort(b);
    };
    // A side that closes before its data ended (destroyed, reset) takes the other down with it.
    const onClose = (self: Duplex, other: Duplex) => () => {
      if (!self.readableEnded || aborted(self)) {
        result.error ??= new Error('the other side closed before its data ended');
        abort(other);
      }
      closed += 1;
      if (closed === 2) {
        // Counted from the sockets at the end, not per chunk: a 'data' listener on a hot path costs.
        result.aToB = moved(a, b);
        result.bToA = moved(b, a);
        resolve(result);
      }
    };
    a.on('error', fail);
    b.on('error', fail);
    a.once('close', onClose(a, b));
    b.once('close', onClose(b, a));
    // The end is passed on by hand: an HTTP/2 stream reset by its peer also ends its readable
    // side, and that must reach the other side as an abort, not as a clean end.
    const passEnd = (from: Duplex, to: Duplex, side: 'a' | 'b') => () => {
      if (aborted(from)) return abort(to);
      result.firstEnded ??= side;
      to.end();
    };
    a.on('end', passEnd(a, b, 'a'));
    b.on('end', passEnd(b, a, 'b'));
    coalesce(a, b);
    coalesce(b, a);
    a.pipe(b, { end: false });
    b.pipe(a, { end: false });
  });
}
