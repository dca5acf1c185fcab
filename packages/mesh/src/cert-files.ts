/**
 * File names inside a certificate directory: what `switchyard ca issue --out DIR` writes and what
 * `--cert-dir DIR` reads. The same layout as SPIFFE helpers and Istio's file-mounted certificates.
 */
export const CERT_FILES = {
  /** The workload certificate followed by any intermediates (PEM). */
  chain: 'cert-chain.pem',
  /** The workload's private key (PKCS#8 PEM), mode 0600. */
  key: 'key.pem',
  /** The trust bundle: CA certificates that peers' chains must lead to (PEM). */
  bundle: 'root-cert.pem',
} as const;

/** File names inside a development CA directory made by `switchyard ca init`. */
export const CA_FILES = {
  cert: 'ca-cert.pem',
  key: 'ca-key.pem',
} as const;
