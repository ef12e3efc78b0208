/**
 * The Confluent wire format of a Kafka key or value: magic byte 0, the schema id as a 4-byte
 * big-endian integer, then the Avro binary payload. Decoding only splits the frame; the caller
 * resolves the schema id and validates the payload.
 */
import { TandemError } from '../errors.js';

export const MAGIC_BYTE = 0;
export const HEADER_BYTES = 5;

export interface Framed {
  schemaId: number;
  /** The Avro binary payload (a view into the message, not a copy). */
  payload: Buffer;
}

/** Frames an Avro payload that is already encoded. */
export function encodeFrame(schemaId: number, payload: Buffer): Buffer {
  const framed = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  writeHeader(framed, schemaId);
  payload.copy(framed, HEADER_BYTES);
  return framed;
}

/** Writes the 5-byte header at the start of `target` (for encoders that write the payload in place after it). */
export function writeHeader(target: Buffer, schemaId: number): void {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0x7fffffff) throw new RangeError(`schema id ${schemaId} is not a registry id (0 to 2^31-1)`);
  target[0] = MAGIC_BYTE;
  target.writeInt32BE(schemaId, 1);
}

/** Splits a framed message into its schema id and payload; `where` names the message in errors. */
export function decodeFrame(message: Buffer, where = 'message'): Framed {
  if (message.length < HEADER_BYTES) {
    throw new TandemError(`${where} is ${message.length} bytes, shorter than the 5-byte Confluent header`, {
      fix: 'the topic holds data that was not written with a schema registry serializer; route it elsewhere or replay it to the dead-letter topic',
    });
  }
  if (message[0] !== MAGIC_BYTE) {
    throw new TandemError(`${where} starts with byte ${message[0]}, not the Confluent magic byte 0`, {
      fix: 'the topic holds data that was not written with a schema registry serializer; route it elsewhere or replay it to the dead-letter topic',
    });
  }
  return { schemaId: message.readInt32BE(1), payload: message.subarray(HEADER_BYTES) };
}
