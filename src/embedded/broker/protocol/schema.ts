/**
 * The shape of a Kafka message schema as emitted by scripts/generate-kafka-protocol.ts.
 * The generator trims the Apache Kafka JSON specs to the versions the broker serves;
 * codec.ts interprets these schemas for one concrete version at a time.
 */

/** Inclusive version range `[min, max]`. */
export type VersionRange = readonly [number, number];

export type PrimitiveType =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'string'
  | 'bytes'
  | 'records'
  | 'uuid';

export type DefaultValue = number | bigint | boolean | string | null;

export interface FieldSchema {
  /** Spec name with a lowercase first letter, e.g. `timeoutMs`. */
  readonly name: string;
  /** `array` holds `items`; `struct` (or an array of structs) holds `fields`. */
  readonly type: PrimitiveType | 'struct' | 'array';
  readonly items?: PrimitiveType | 'struct';
  readonly fields?: readonly FieldSchema[];
  /** Versions in which the field exists (on the wire or in the tagged section). */
  readonly versions: VersionRange;
  readonly nullableVersions?: VersionRange;
  /** Tagged fields are written in the tagged section, only when they differ from the default. */
  readonly tag?: number;
  readonly taggedVersions?: VersionRange;
  /** Value when the field is absent; arrays default to `[]` and structs to their fields' defaults. */
  readonly default?: DefaultValue;
  /** Set when the field keeps the classic encoding even in flexible versions (RequestHeader ClientId). */
  readonly neverFlexible?: true;
}

export interface MessageSchema {
  readonly name: string;
  /** Versions this schema was trimmed to (the versions the broker serves). */
  readonly versions: VersionRange;
  /** First flexible (KIP-482 compact) version, or null when no served version is flexible. */
  readonly firstFlexibleVersion: number | null;
  readonly fields: readonly FieldSchema[];
}

export function inRange(range: VersionRange | undefined, version: number): boolean {
  return range !== undefined && version >= range[0] && version <= range[1];
}
