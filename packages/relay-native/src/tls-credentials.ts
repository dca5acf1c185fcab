import { RelayCredentialsError } from './errors.js';
import type { NativeHandle, RelayAddon } from './load-addon.js';

/** PEM credentials for the engine's TLS contexts. */
export interface TlsCredentials {
  /** The certificate chain, leaf first (PEM). */
  cert: string | Buffer;
  /** The leaf's private key (PEM). */
  key: string | Buffer;
  /** The CA bundle peers are verified against (PEM). */
  ca: string | Buffer;
  /**
   * Key-exchange groups in preference order, OpenSSL syntax (e.g. `X25519`). Default: OpenSSL's
   * own list, the one Node uses too (X25519MLKEM768 first with OpenSSL 3.5).
   */
  groups?: string;
  /** TLS 1.3 cipher suites, OpenSSL syntax. Default: OpenSSL's, the same as Node's. */
  ciphersuites?: string;
  /**
   * `h2`: offer (client) and require, when the peer offers ALPN (server), HTTP/2 — for
   * connections served with {@link PeerHandshake.http2}.
   */
  alpn?: 'h2';
}

/**
 * A TLS context built once from credentials and used for every new connection it is given to.
 * Rotation is a new context: connections already open keep the one they started with.
 */
export class TlsContext {
  /** @internal */
  readonly handle: NativeHandle;

  /** @internal use {@link RelayEngine.createTlsContext} */
  constructor(addon: RelayAddon, credentials: TlsCredentials) {
    try {
      this.handle = addon.createTlsContext(credentials);
    } catch (cause) {
      throw new RelayCredentialsError(
        `the relay engine cannot use these credentials: ${(cause as Error).message}; check that cert, key and ca are PEM and that the key matches the certificate`,
        { cause },
      );
    }
  }
}
