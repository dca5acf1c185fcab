import type { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import type { DecidedTunnel, Http2Session, IncomingTunnel } from './h2-session.js';
import type { HandOffOptions } from './hand-off-options.js';
import type { RelayCloseReason, RelayResult } from './relay-result.js';

/** How {@link PeerHandshake.http2} serves or dials HTTP/2 on the connection. */
export interface Http2Options {
  role: 'server' | 'client';
  /** Server: the policy refused the peer; its streams are answered 401 and the connection ends soon. */
  denied?: boolean;
  /** Server: each stream the peer opens, to accept or refuse (exactly once). */
  onStream?: (tunnel: IncomingTunnel) => void;
  /**
   * Server: the admission table's slot that decides the streams of this (not denied) connection
   * of `peer` on the engine; `onDecided` hears of each stream it decided (`onStream` gets the rest).
   */
  streams?: { slot: number; peer: string; onDecided: (tunnel: DecidedTunnel) => void };
}

/** A TLS peer the engine verified: JavaScript decides with {@link PeerHandshake.accept} or `reject`. */
export interface PeerHandshake {
  ok: true;
  /**
   * The peer's one SPIFFE ID (`spiffe://trust-domain/...`). Empty only on an HBONE server (ALPN
   * h2) whose peer presented none or several: `identityError` says which, and the data plane
   * answers its streams 401.
   */
  spiffeId: string;
  identityError?: string;
  /** The verified chain, leaf first (parsed on each read: keep it if you need it twice). */
  readonly chain: X509Certificate[];
  /** Protocol, cipher suite and key-exchange group, e.g. `TLSv1.3 TLS_AES_256_GCM_SHA384 X25519`. */
  protocol: string;
  /**
   * The session was resumed (a ticket from an earlier full handshake with this peer, at most
   * 5 minutes old and never past its certificate's expiry): the identity is the one that
   * handshake verified, and `chain` holds the leaf only.
   */
  resumed: boolean;
  /**
   * Set when the engine decided the peer from its admission table (`TlsHandOff.admission`):
   * `accepted` (relaying already: `accept()` only returns how it ends) or `refused` (closed).
   */
  admitted?: 'accepted' | 'refused';
  /** With `admitted: 'refused'`: the code of the table's decision (`policy`, `unexpected-identity`, ...). */
  refusedCode?: string;
  /**
   * Relays between the peer and `plain` (hands `plain` to the engine). Resolves when the
   * connection ends. `keepSocket` leaves Node's `plain` object open as a stand-in (see
   * {@link HandOffOptions}).
   */
  accept(plain: Socket, options?: { keepSocket?: boolean }): Promise<RelayResult>;
  /** Closes the connection; no byte reaches the application. */
  reject(): Promise<RelayResult>;
  /**
   * Speaks HTTP/2 on the connection (its context offered ALPN h2) instead of relaying it: the
   * engine frames, JavaScript decides each stream. Its `ended` resolves when the connection ends.
   */
  http2(options: Http2Options): Http2Session;
  /**
   * Resets the connection now, whatever its stage: awaiting a decision it is rejected, relaying
   * both ends get an RST. Holding this function holds nothing else of the handshake (a relayed
   * connection's JavaScript stays small); after the end it does nothing.
   */
  readonly abort: () => void;
}

/** A handshake that did not complete; the engine already closed the socket. */
export interface FailedHandshake {
  ok: false;
  reason: RelayCloseReason;
  detail: string;
}
