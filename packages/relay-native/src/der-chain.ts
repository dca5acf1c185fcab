import { X509Certificate } from 'node:crypto';

/** Splits the engine's chain encoding (DER certificates, each behind a 4-byte length). */
export function parseDerChain(packed: Buffer): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (let at = 0; at + 4 <= packed.length; ) {
    const len = packed.readUInt32BE(at);
    out.push(new X509Certificate(packed.subarray(at + 4, at + 4 + len)));
    at += 4 + len;
  }
  return out;
}
