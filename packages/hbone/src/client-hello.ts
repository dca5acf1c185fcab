/** What {@link readServerName} found in the first bytes of a TLS connection. */
export type ServerNameResult =
  | { kind: 'incomplete' }
  | { kind: 'found'; serverName: string }
  | { kind: 'absent' }
  | { kind: 'not-tls'; reason: string };

const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
const SERVER_NAME_EXTENSION = 0x0000;
const MAX_RECORD = 16 * 1024 + 5;

/**
 * Reads the SNI host name from a TLS ClientHello without terminating TLS, so a gateway can route
 * a session it cannot decrypt. Written by hand (RFC 8446 §4.1.2, RFC 6066 §3) because it only has
 * to walk a few length-prefixed fields, and no library parses a ClientHello without being a TLS
 * stack. A ClientHello must fit one record (16 KiB), as every mainstream client's does.
 */
export function readServerName(buffer: Buffer): ServerNameResult {
  if (buffer.length < 5) return { kind: 'incomplete' };
  if (buffer[0] !== HANDSHAKE) return { kind: 'not-tls', reason: 'the first record is not a TLS handshake' };
  const recordLength = buffer.readUInt16BE(3);
  if (recordLength + 5 > MAX_RECORD)
    return { kind: 'not-tls', reason: 'the first record is larger than TLS allows' };
  if (buffer.length < 5 + recordLength) return { kind: 'incomplete' };
  const hello = buffer.subarray(5, 5 + recordLength);
  try {
    if (hello[0] !== CLIENT_HELLO)
      return { kind: 'not-tls', reason: 'the first handshake message is not a ClientHello' };
    const helloLength = hello.readUIntBE(1, 3);
    if (helloLength + 4 > hello.length)
      return { kind: 'not-tls', reason: 'the ClientHello does not fit one record' };
    let at = 4 + 2 + 32; // type+length, legacy version, random
    at += 1 + (hello[at] as number); // session id
    at += 2 + hello.readUInt16BE(at); // cipher suites
    at += 1 + (hello[at] as number); // compression methods
    if (at >= 4 + helloLength) return { kind: 'absent' };
    const extensionsEnd = at + 2 + hello.readUInt16BE(at);
    at += 2;
    while (at + 4 <= extensionsEnd) {
      const type = hello.readUInt16BE(at);
      const length = hello.readUInt16BE(at + 2);
      at += 4;
      if (type === SERVER_NAME_EXTENSION) {
        let entry = at + 2; // server_name_list length
        while (entry + 3 <= at + length) {
          const nameType = hello[entry] as number;
          const nameLength = hello.readUInt16BE(entry + 1);
          if (nameType === 0)
            return { kind: 'found', serverName: hello.toString('ascii', entry + 3, entry + 3 + nameLength) };
          entry += 3 + nameLength;
        }
        return { kind: 'absent' };
      }
      at += length;
    }
    return { kind: 'absent' };
  } catch {
    return { kind: 'not-tls', reason: 'the ClientHello is malformed' };
  }
}
