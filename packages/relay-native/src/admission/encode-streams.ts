import { isIP } from 'node:net';

/** What a slot decides HBONE streams by besides its peer rules (native/admission_stream.c reads it). */
export interface AdmissionStreams {
  /** The workload's own addresses besides the one a connection arrives on (canonical text). */
  addresses: readonly string[];
  /** The proxy's own ports: a stream asking for one is refused (503). */
  proxyPorts: readonly number[];
  /** Where the engine dials an admitted stream; undefined: JavaScript decides the slot's streams. */
  dial: { to: 'authority' } | { to: 'fixed'; destination: { address: string; port: number } } | undefined;
  /** The connect timeout of the engine's dial, ms. */
  connectTimeoutMs: number;
}

/** The most addresses or proxy ports one slot may hold (as the engine reads them). */
export const MAX_STREAM_LIST = 4096;

const DIAL = { ask: 0, authority: 1, fixed: 2 } as const;

/**
 * The 16 or 4 bytes of an IP literal in canonical text (the form the engine prints: dotted quad;
 * IPv6 lower case, RFC 5952's compression, no embedded IPv4), or undefined for any other text.
 */
export function canonicalIpBytes(address: string): Buffer | undefined {
  const family = isIP(address);
  if (family === 4) return Buffer.from(address.split('.').map(Number));
  if (family !== 6 || address.includes('.') || address.includes('%')) return undefined;
  let serialized: string;
  try {
    serialized = new URL(`http://[${address}]/`).hostname;
  } catch {
    return undefined;
  }
  if (serialized !== `[${address}]`) return undefined;
  const [head = '', tail] = address.split('::');
  const groups = (t: string) => (t === '' ? [] : t.split(':'));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = [...h, ...Array.from({ length: 8 - h.length - t.length }, () => '0'), ...t];
  const out = Buffer.alloc(16);
  for (const [i, g] of all.entries()) out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  return out;
}

const port = (p: number) => Number.isInteger(p) && p >= 1 && p <= 65535;

/** Whether the engine can hold `s` exactly; a slot whose streams cannot is decided in JavaScript. */
export function streamsCompilable(s: AdmissionStreams): boolean {
  return (
    s.addresses.length <= MAX_STREAM_LIST &&
    s.proxyPorts.length <= MAX_STREAM_LIST &&
    s.addresses.every((a) => canonicalIpBytes(a) !== undefined) &&
    s.proxyPorts.every(port) &&
    Number.isInteger(s.connectTimeoutMs) &&
    s.connectTimeoutMs >= 1 &&
    s.connectTimeoutMs <= 0xffffffff &&
    (s.dial?.to !== 'fixed' ||
      (canonicalIpBytes(s.dial.destination.address) !== undefined && port(s.dial.destination.port)))
  );
}

function ip(address: string): Buffer {
  const bytes = canonicalIpBytes(address) as Buffer;
  return Buffer.concat([Buffer.from([bytes.length === 4 ? 4 : 6]), bytes]);
}

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return b;
}

/** A slot's stream section in the engine's wire form (after its rules and a 1). */
export function encodeStreams(s: AdmissionStreams): Buffer {
  const timeout = Buffer.alloc(4);
  timeout.writeUInt32LE(s.connectTimeoutMs);
  const dial = s.dial?.to ?? 'ask';
  return Buffer.concat([
    u16(s.addresses.length),
    ...s.addresses.map(ip),
    u16(s.proxyPorts.length),
    ...s.proxyPorts.map(u16),
    Buffer.from([DIAL[dial]]),
    ...(s.dial?.to === 'fixed' ? [ip(s.dial.destination.address), u16(s.dial.destination.port)] : []),
    timeout,
  ]);
}
