/**
 * The "consumer" embedded protocol: the bytes inside JoinGroup member metadata (a subscription) and
 * SyncGroup assignments. The group coordinator may treat them as opaque; these helpers are for
 * tests and tools that want to look inside. Each starts with an int16 version; fields are
 * append-only, so a version newer than ours is read with our newest layout and the rest ignored.
 */
import { Reader, Writer, decodeMessage, encodeMessage, ProtocolError, type Encodable } from './codec.js';
import {
  ConsumerProtocolAssignmentSchema,
  ConsumerProtocolSubscriptionSchema,
  type ConsumerProtocolAssignment,
  type ConsumerProtocolSubscription,
} from './generated/consumer-protocol.js';
import type { MessageSchema } from './schema.js';

export type { ConsumerProtocolAssignment, ConsumerProtocolSubscription };

/**
 * Some clients announce a version but write only older fields (kafkajs writes a v1 subscription
 * with the v0 layout), so fall back to older layouts until one fits the bytes.
 */
function decodeVersioned<T>(schema: MessageSchema, bytes: Buffer): T & { version: number } {
  const version = new Reader(bytes).int16();
  if (version < 0) throw new ProtocolError(`${schema.name}: invalid version ${version}`);
  for (let layout = Math.min(version, schema.versions[1]); ; layout--) {
    try {
      return { ...(decodeMessage(schema, layout, new Reader(bytes, 2)) as T), version };
    } catch (error) {
      if (layout === 0 || !(error instanceof ProtocolError)) throw error;
    }
  }
}

function encodeVersioned(schema: MessageSchema, version: number, value: object): Buffer {
  const writer = new Writer(64);
  writer.int16(version);
  encodeMessage(schema, version, writer, value);
  return Buffer.from(writer.finish());
}

export function decodeSubscription(bytes: Buffer): ConsumerProtocolSubscription & { version: number } {
  return decodeVersioned(ConsumerProtocolSubscriptionSchema, bytes);
}

export function encodeSubscription(version: number, subscription: Encodable<ConsumerProtocolSubscription>): Buffer {
  return encodeVersioned(ConsumerProtocolSubscriptionSchema, version, subscription);
}

export function decodeAssignment(bytes: Buffer): ConsumerProtocolAssignment & { version: number } {
  return decodeVersioned(ConsumerProtocolAssignmentSchema, bytes);
}

export function encodeAssignment(version: number, assignment: Encodable<ConsumerProtocolAssignment>): Buffer {
  return encodeVersioned(ConsumerProtocolAssignmentSchema, version, assignment);
}
