import type { AuthorizationRule } from '@switchyard/mesh';
import { type AdmissionStreams, encodeStreams, streamsCompilable } from './encode-streams.js';

/** One policy of an admission table: the allow rules of one authorization, and our trust domain. */
export interface AdmissionPolicy {
  /** The slot a connection's question names (an unsigned 32-bit integer). */
  slot: number;
  /** Our trust domain: a rule without one matches it. */
  selfTrustDomain: string;
  rules: readonly AuthorizationRule[];
  /** What the slot decides HBONE streams by besides the rules; absent: JavaScript decides every stream. */
  streams?: AdmissionStreams | undefined;
}

/** The longest string the engine's table holds (bytes of UTF-8); longer ones are not compiled. */
export const MAX_ADMISSION_STRING = 1024;
/** The most rules one policy may have in the engine's table; more are not compiled. */
export const MAX_ADMISSION_RULES = 4096;

const MAGIC = 0x32415753; // "SWA2", as native/admission.c reads it
/** The fields of an allow rule, in the order of their bits in the engine's wire form. */
export const RULE_FIELDS = ['spiffeId', 'trustDomain', 'namespace', 'serviceAccount'] as const;

/** Whether the engine's table can hold `s` exactly (non-empty, bounded, no NUL or line break). */
export function admissionString(s: string): boolean {
  return (
    s.length > 0 && Buffer.byteLength(s) <= MAX_ADMISSION_STRING && !s.includes('\0') && !s.includes('\n')
  );
}

/** Whether a policy can go into the engine's table as it is; one that cannot is decided in JavaScript. */
export function compilable(p: Omit<AdmissionPolicy, 'slot'>): boolean {
  return (
    admissionString(p.selfTrustDomain) &&
    p.rules.length <= MAX_ADMISSION_RULES &&
    p.rules.every((r) => {
      return RULE_FIELDS.every((f) => r[f] === undefined || admissionString(r[f] as string));
    }) &&
    (p.streams === undefined || streamsCompilable(p.streams))
  );
}

export type { AdmissionStreams };

function str(parts: Buffer[], s: string): void {
  const bytes = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16LE(bytes.length);
  parts.push(len, bytes);
}

function u(parts: Buffer[], value: number, width: 1 | 2 | 4): void {
  const b = Buffer.alloc(width);
  b.writeUIntLE(value, 0, width);
  parts.push(b);
}

/**
 * The engine's wire form of a table (native/admission.c reads it): policies sorted by slot.
 *
 * @throws RangeError for a policy that is not {@link compilable}, or a slot given twice.
 */
export function encodeAdmissionTable(policies: readonly AdmissionPolicy[]): Buffer {
  const sorted = [...policies].sort((a, b) => a.slot - b.slot);
  const parts: Buffer[] = [];
  u(parts, MAGIC, 4);
  u(parts, sorted.length, 4);
  sorted.forEach((p, i) => {
    if (!compilable(p)) throw new RangeError(`admission policy ${p.slot} cannot be compiled`);
    if (i > 0 && sorted[i - 1]?.slot === p.slot) throw new RangeError(`admission slot ${p.slot} given twice`);
    u(parts, p.slot, 4);
    str(parts, p.selfTrustDomain);
    u(parts, p.rules.length, 2);
    for (const rule of p.rules) {
      u(
        parts,
        RULE_FIELDS.reduce((mask, f, bit) => (rule[f] !== undefined ? mask | (1 << bit) : mask), 0),
        1,
      );
      for (const f of RULE_FIELDS) if (rule[f] !== undefined) str(parts, rule[f] as string);
    }
    u(parts, p.streams ? 1 : 0, 1);
    if (p.streams) parts.push(encodeStreams(p.streams));
  });
  return Buffer.concat(parts);
}
