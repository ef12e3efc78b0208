import { describe, expect, it } from 'vitest';
import { createAvroType } from '../../../src/schema/avro-type.js';
import { decodeFrame, encodeFrame, writeHeader } from '../../../src/schema/wire-format.js';

describe('Confluent wire format', () => {
  it('frames a payload as magic byte, big-endian id and the payload', () => {
    const framed = encodeFrame(0x01020304, Buffer.from([9, 8, 7]));
    expect([...framed]).toEqual([0, 1, 2, 3, 4, 9, 8, 7]);
  });

  it('decodes what it encodes, for ids up to 2^31-1 and empty payloads', () => {
    for (const id of [0, 1, 255, 65_536, 0x7fffffff]) {
      for (const payload of [Buffer.alloc(0), Buffer.from('avro')]) {
        const decoded = decodeFrame(encodeFrame(id, payload));
        expect(decoded.schemaId).toBe(id);
        expect(decoded.payload.equals(payload)).toBe(true);
      }
    }
  });

  it('decodes the bytes a Confluent serializer writes for id 7 and {id: 42, name: "Ada"}', () => {
    const captured = Buffer.from('00000000075406416461', 'hex');
    const { schemaId, payload } = decodeFrame(captured);
    const type = createAvroType({ type: 'record', name: 'Row', fields: [{ name: 'id', type: 'int' }, { name: 'name', type: 'string' }] });
    expect(schemaId).toBe(7);
    expect(type.fromBuffer(payload)).toEqual({ id: 42, name: 'Ada' });
  });

  it('refuses a message without the magic byte, naming the message', () => {
    expect(() => decodeFrame(Buffer.from('{"id":1}'), 'orders[2]@17')).toThrow(/orders\[2\]@17 starts with byte 123, not the Confluent magic byte 0/);
  });

  it('refuses a message shorter than the header', () => {
    expect(() => decodeFrame(Buffer.from([0, 0, 1]))).toThrow(/3 bytes, shorter than the 5-byte Confluent header/);
  });

  it('refuses ids outside the registry range', () => {
    expect(() => writeHeader(Buffer.alloc(5), -1)).toThrow(RangeError);
    expect(() => writeHeader(Buffer.alloc(5), 2 ** 31)).toThrow(RangeError);
  });
});
