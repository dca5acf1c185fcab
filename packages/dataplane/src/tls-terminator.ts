import type { Duplex } from 'node:stream';
import { type TLSSocket, Server as TlsServer } from 'node:tls';
import type { WorkloadCertificate } from '@switchyard/mesh';
import { spiffeIdsFromSan } from '@switchyard/mesh';
import { guardTlsRecords } from './tls-record-guard.js';
import type { TlsFlood } from './tls-record-limits.js';

/** Why an inbound TLS handshake did not finish. */
export type TlsFailure = 'timeout' | 'no-certificate' | 'untrusted' | 'protocol' | 'closed';

/** What happens to one connection given to {@link TlsTerminator.accept}. */
export interface TlsOutcome {
  secure(tls: TLSSocket): void;
  failed(failure: TlsFailure, reason: string): void;
}

/** A handshake in progress: where its outcome goes, and the half-open choice to restore. */
interface Pending {
  outcome: TlsOutcome;
  raw: Duplex;
  halfOpen: boolean;
}

/** Options of {@link TlsTerminator}. */
export interface TlsTerminatorOptions {
  certificate: WorkloadCertificate;
  handshakeTimeout: number;
  /** ALPN protocols offered (`['h2']` for HBONE). */
  alpn?: string[];
  /**
   * Called when a peer crosses a limit of `TLS_RECORD_LIMITS` after its handshake (its connection
   * is then destroyed): count it, and penalize `source` (the peer's address). Every secure
   * connection is held to the limits.
   */
  onFlood?: (kind: TlsFlood, detail: string, source: string | undefined) => void;
}

const serverOptions = (cert: WorkloadCertificate) => ({
  cert: cert.chain,
  key: cert.key,
  ca: cert.bundle,
  minVersion: 'TLSv1.3' as const,
});

/**
 * Terminates mTLS on connections accepted elsewhere, through a `tls.Server` that never listens
 * (so session tickets, ALPN and the handshake timeout behave as on a listening server). Each
 * connection's outcome goes to the callbacks given with it: no lookup by address.
 */
export class TlsTerminator {
  readonly #server: TlsServer;
  readonly #outcomes = new WeakMap<Duplex, Pending>();

  constructor(o: TlsTerminatorOptions) {
    this.#server = new TlsServer({
      ...serverOptions(o.certificate),
      requestCert: true,
      rejectUnauthorized: true,
      handshakeTimeout: o.handshakeTimeout,
      ...(o.alpn ? { ALPNProtocols: o.alpn } : {}),
    });
    this.#server.on('secureConnection', (tls: TLSSocket) => {
      const taken = this.#take(tls);
      if (!taken) return;
      // Half-close is carried again once the peer is authenticated (see accept()), by the TLS
      // socket and by the stream under it (a stream other than a net.Socket ends its writable
      // side on its own end unless it is half-open).
      tls.allowHalfOpen = taken.halfOpen;
      taken.raw.allowHalfOpen = taken.halfOpen;
      // the bytes under TLS: a net.Socket's, or those of a stream carrying one's (TruncationGuard)
      const raw = taken.raw as Duplex & { bytesRead?: unknown; remoteAddress?: string };
      // the source is read now: a closed socket has no address left to penalize
      const source = raw.remoteAddress;
      if (typeof raw.bytesRead === 'number')
        guardTlsRecords(tls, raw as Duplex & { bytesRead: number }, 'server', (kind, detail) =>
          o.onFlood?.(kind, detail, source),
        );
      taken.outcome.secure(tls);
    });
    this.#server.on('tlsClientError', (error: Error, tls: TLSSocket) => {
      const taken = this.#take(tls);
      if (!taken) return;
      const { failure, reason } = classify(error, tls);
      taken.outcome.failed(failure, reason);
    });
  }

  /** Uses a rotated certificate for the handshakes that start from now on. */
  rotate(certificate: WorkloadCertificate): void {
    this.#server.setSecureContext(serverOptions(certificate));
  }

  /**
   * Starts the handshake on `raw`; exactly one of the outcome's callbacks is called. A peer that
   * sends its FIN (or an RST) during the handshake fails it at once, as `closed`: it never holds
   * a pending-handshake slot until the timeout.
   */
  accept(raw: Duplex, outcome: TlsOutcome): void {
    // The TLS socket takes allowHalfOpen from `raw`. Half-open, an EOF before the handshake is
    // done is never read (nothing reads the plaintext side yet), so the connection would wait for
    // the handshake timeout; closed on EOF, it fails at once. The carrier's choice is restored on
    // the TLS socket when the handshake is done.
    this.#outcomes.set(raw, { outcome, raw, halfOpen: raw.allowHalfOpen });
    raw.allowHalfOpen = false;
    raw.once('close', () => {
      if (this.#outcomes.delete(raw))
        outcome.failed('closed', 'the peer closed the connection during the handshake');
    });
    this.#server.emit('connection', raw);
  }

  #take(tls: TLSSocket): Pending | undefined {
    const raw = underneath(tls);
    const outcome = raw ? this.#outcomes.get(raw) : undefined;
    if (raw) this.#outcomes.delete(raw);
    return outcome;
  }
}

/**
 * The stream a TLS socket was made on: a `net.Socket` is its `_parent`; any other stream is
 * wrapped by Node (a JSStreamSocket, `_parentWrap` of its handle) and is that wrapper's `stream`.
 * Neither is public API; both have been there since Node 10.
 */
function underneath(tls: TLSSocket): Duplex | undefined {
  const t = tls as TLSSocket & { _parent?: Duplex; _handle?: { _parentWrap?: { stream?: Duplex } } };
  return t._parent ?? t._handle?._parentWrap?.stream;
}

/** Names why a handshake failed: for metrics (`tls_failures_total{reason}`) and logs. */
export function classify(error: Error, tls: TLSSocket): { failure: TlsFailure; reason: string } {
  const code = (error as { code?: string }).code ?? '';
  const text = `${error.message} ${code}`;
  const why = (tls as TLSSocket & { authorizationError?: string }).authorizationError;
  const presented = spiffeIdsFromSan(tls.getPeerCertificate?.()?.subjectaltname)[0];
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return { failure: 'timeout', reason: 'no TLS handshake in time' };
  if (/PEER_DID_NOT_RETURN_A_CERTIFICATE|certificate required/i.test(text))
    return { failure: 'no-certificate', reason: 'the peer presented no certificate' };
  if (why || /certificate|CERT_|unknown ca|expired/i.test(text))
    return {
      failure: 'untrusted',
      reason: `untrusted peer certificate${why ? ` (${why})` : ''}${presented ? ` for ${presented}` : ''}: ${error.message}`,
    };
  if (/ECONNRESET|socket hang up/i.test(text)) return { failure: 'closed', reason: error.message };
  return { failure: 'protocol', reason: error.message };
}
