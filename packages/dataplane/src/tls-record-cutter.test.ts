import { describe, expect, it } from 'vitest';
import { TlsRecordCutter } from './tls-record-cutter.js';

/** A TLS record of `length` body bytes (application data, TLS 1.2 legacy version). */
const record = (length: number) => {
  const header = Buffer.from([0x17, 0x03, 0x03, length >> 8, length & 0xff]);
  return Buffer.concat([header, Buffer.alloc(length, 0xaa)]);
};

describe('TlsRecordCutter', () => {
  it.each([
    // [records in the stream (body lengths), records asked for, the offset expected]
    [[1, 1, 1], 2, 12],
    [[1, 1, 1], 3, 18],
    [[1, 1, 1], 4, 18],
    [[16_384, 1], 1, 16_389],
    [[0, 0, 5], 2, 10],
  ])('records %j, %i asked: cut at %i', (bodies, asked, offset) => {
    const chunk = Buffer.concat(bodies.map(record));
    expect(new TlsRecordCutter().cut(chunk, asked)).toBe(offset);
  });

  it('follows records across chunks, headers split anywhere', () => {
    const stream = Buffer.concat([record(300), record(1), record(2), record(70_000 & 0xffff)]);
    for (let split = 1; split < 320; split += 7) {
      const cutter = new TlsRecordCutter();
      const first = stream.subarray(0, split);
      const walked = cutter.cut(first, 2);
      expect(walked).toBe(Math.min(first.length, 311));
      const rest = stream.subarray(walked);
      // what ends next: the record under way (or the second), then the third
      const next = cutter.cut(rest, 1);
      expect(walked + next).toBe(walked < 305 ? 305 : walked < 311 ? 311 : 318);
    }
  });

  it('walks all of a chunk in which fewer records end', () => {
    const cutter = new TlsRecordCutter();
    expect(cutter.cut(record(100).subarray(0, 50), 1)).toBe(50);
    expect(cutter.cut(Buffer.concat([record(100).subarray(50), record(1)]), 2)).toBe(61);
  });
});
