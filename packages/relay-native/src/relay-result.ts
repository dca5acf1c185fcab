/** Why the engine ended a connection. */
export type RelayCloseReason =
  /** both directions ended in order (FIN, or close_notify then FIN) */
  | 'eof'
  /** a socket failed (reset by the peer, broken pipe); the other side is reset too */
  | 'reset'
  /** nothing moved for the engine's idle timeout */
  | 'idle-timeout'
  | 'handshake-timeout'
  /** a TLS alert, an unverifiable certificate, or a truncated handshake */
  | 'handshake-failed'
  /** the peer's certificate carries no SPIFFE ID, or more than one */
  | 'identity'
  /** JavaScript rejected the peer (or did not decide within the decision timeout) */
  | 'rejected'
  | 'engine-closed'
  /** TLS failed after the handshake: a bad record, or the peer's FIN without close_notify */
  | 'tls-error'
  /**
   * Sniffing (`TlsHandOff.sniff`): the client's first byte is not a TLS handshake record, or it
   * sent nothing within the handshake timeout (a protocol whose server speaks first). Nothing
   * was read: the kept socket holds every byte, for Node to read again.
   */
  | 'not-tls'
  /** the peer sent more KeyUpdates or records without data than the engine's `tlsLimits` allow (reset) */
  | 'tls-flood'
  /** HTTP/2: the peer broke the protocol */
  | 'protocol-error'
  /** HTTP/2: closed with ENHANCE_YOUR_CALM (rapid reset, a control-frame flood, too many refused streams) */
  | 'enhance-your-calm'
  /** HTTP/2: a keepalive PING went unanswered */
  | 'keepalive-timeout';

/** How a relayed connection ended. */
export interface RelayResult {
  /** Bytes moved from the first socket to the second (TLS: from the peer to the plain socket). */
  up: number;
  /** Bytes moved from the second socket to the first (TLS: from the plain socket to the peer). */
  down: number;
  reason: RelayCloseReason;
  /** The system or OpenSSL error text, when there is one; else empty. */
  detail: string;
}
