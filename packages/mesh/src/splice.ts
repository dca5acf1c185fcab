import type { Duplex } from 'node:stream';

/** Bytes a stream delivered to us; for TLS sockets Node counts plaintext, which is what we want. */
function bytesRead(stream: Duplex): number {
  return (stream as Duplex & { bytesRead?: number }).bytesRead ?? Number.NaN;
}

/** Bytes moved by a finished {@link splice}. */
export interface SpliceResult {
  /** Bytes read from `a` and written to `b`. */
  aToB: number;
  /** Bytes read from `b` and written to `a`. */
  bToA: number;
  /** The first error on either side, if any. */
  error?: Error;
}

/**
 * Ends a stream so its far end sees an error: a TCP socket is reset (RST), anything else
 * (a TLS socket, an HTTP/2 stream) destroyed. A cut transfer must never look like a clean end.
 */
export function abort(stream: Duplex): void {
  const reset = (stream as Duplex & { resetAndDestroy?: () => void }).resetAndDestroy;
  if (typeof reset === 'function') {
    try {
      reset.call(stream);
      return;
    } catch {
      // Not a TCP handle (TLS over a socket): fall through.
    }
  }
  stream.destroy();
}

/**
 * Joins two streams both ways with back-pressure (a slow reader pauses the other side's reads)
 * and half-close (one side's end becomes the other's end, while the other direction keeps
 * flowing). An error on either side, or one closing before its data ended, aborts both (a TCP
 * side is reset, so the app learns the transfer was cut).
 * Resolves when both sides are closed.
 * Both streams should be created with `allowHalfOpen: true`.
 */
export function splice(a: Duplex, b: Duplex): Promise<SpliceResult> {
  return new Promise((resolve) => {
    const result: SpliceResult = { aToB: 0, bToA: 0 };
    let closed = 0;
    const fail = (error: Error) => {
      result.error ??= error;
      abort(a);
      abort(b);
    };
    // A side that closes before its data ended (destroyed, reset) takes the other down with it;
    // one that ended cleanly has already passed its end on through pipe() and lets the other flush.
    const onClose = (self: Duplex, other: Duplex) => () => {
      if (!self.readableEnded) {
        result.error ??= new Error('the other side closed before its data ended');
        abort(other);
      }
      closed += 1;
      if (closed === 2) {
        // Counted from the sockets at the end, not per chunk: a 'data' listener on a hot path costs.
        result.aToB = bytesRead(a);
        result.bToA = bytesRead(b);
        resolve(result);
      }
    };
    a.on('error', fail);
    b.on('error', fail);
    a.once('close', onClose(a, b));
    b.once('close', onClose(b, a));
    a.pipe(b);
    b.pipe(a);
  });
}
