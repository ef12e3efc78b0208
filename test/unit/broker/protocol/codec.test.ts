/**
 * The schema interpreter on its own: symmetric round trips for every served API and version
 * (flexible ones included), tagged fields, headers, and hostile input.
 */
import { describe, expect, it } from 'vitest';
import {
  ApiKey,
  ProtocolError,
  SUPPORTED_APIS,
  decodeRequest,
  decodeRequestHeader,
  decodeResponse,
  encodeApiVersionsUnsupported,
  encodeRequest,
  encodeResponse,
} from '../../../../src/embedded/broker/protocol/index.js';
import { Reader, Writer } from '../../../../src/embedded/broker/protocol/codec.js';
import { API_DEFINITIONS } from '../../../../src/embedded/broker/protocol/generated/index.js';
import { inRange, type FieldSchema, type MessageSchema, type PrimitiveType } from '../../../../src/embedded/broker/protocol/schema.js';

type Variant = 'values' | 'nulls';

function samplePrimitive(type: PrimitiveType): unknown {
  switch (type) {
    case 'bool':
      return true;
    case 'int8':
      return 7;
    case 'int16':
      return 300;
    case 'uint16':
      return 65000;
    case 'int32':
      return 70000;
    case 'uint32':
      return 4_000_000_000;
    case 'int64':
      return 1n << 40n;
    case 'float64':
      return 1.5;
    case 'string':
      return 'naïve-ü';
    case 'bytes':
    case 'records':
      return Buffer.from([1, 2, 3]);
    case 'uuid':
      return '0123abcd-4567-89ef-0123-456789abcdef';
  }
}

/** A body with a non-default value in every field present at `version` (absent fields are left out). */
function sampleStruct(fields: readonly FieldSchema[], version: number, variant: Variant): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  for (const field of fields) {
    if (!inRange(field.versions, version)) continue;
    if (variant === 'nulls' && inRange(field.nullableVersions, version)) {
      value[field.name] = null;
    } else if (field.type === 'array') {
      value[field.name] =
        field.items === 'struct'
          ? [sampleStruct(field.fields!, version, variant), sampleStruct(field.fields!, version, variant)]
          : [samplePrimitive(field.items!), samplePrimitive(field.items!)];
    } else if (field.type === 'struct') {
      value[field.name] = sampleStruct(field.fields!, version, variant);
    } else {
      value[field.name] = samplePrimitive(field.type);
    }
  }
  return value;
}

const cases = API_DEFINITIONS.flatMap((definition) =>
  Array.from({ length: definition.maxVersion - definition.minVersion + 1 }, (_, index) => ({
    definition,
    version: definition.minVersion + index,
    label: `${definition.name} v${definition.minVersion + index}`,
  })),
);

const isFlexible = (schema: MessageSchema, version: number) => schema.firstFlexibleVersion !== null && version >= schema.firstFlexibleVersion;

describe('round trips for every served API and version', () => {
  it.each(cases)('$label request: encodeRequest → decodeRequest gives the body back', ({ definition, version }) => {
    for (const variant of ['values', 'nulls'] as const) {
      const body = sampleStruct(definition.request.fields, version, variant);
      const wire = encodeRequest(definition.apiKey, version, 5, 'client', body as never);
      expect(wire.readInt32BE(0)).toBe(wire.length - 4);
      const frame = wire.subarray(4);
      const header = decodeRequestHeader(frame);
      expect(header).toMatchObject({ apiKey: definition.apiKey, apiVersion: version, correlationId: 5, clientId: 'client' });
      expect(decodeRequest(definition.apiKey, version, frame, header.headerSize)).toMatchObject(body);
    }
  });

  it.each(cases)('$label response: encodeResponse → decodeResponse gives the body back', ({ definition, version }) => {
    for (const variant of ['values', 'nulls'] as const) {
      const body = sampleStruct(definition.response.fields, version, variant);
      const wire = encodeResponse(definition.apiKey, version, 6, body as never);
      const decoded = decodeResponse(definition.apiKey, version, wire.subarray(4));
      expect(decoded.correlationId).toBe(6);
      expect(decoded.body).toMatchObject(body);
    }
  });

  it.each(cases)('$label: every truncation of the request throws ProtocolError', ({ definition, version }) => {
    const body = sampleStruct(definition.request.fields, version, 'values');
    const frame = encodeRequest(definition.apiKey, version, 5, 'client', body as never).subarray(4);
    const { headerSize } = decodeRequestHeader(frame);
    for (let length = headerSize; length < frame.length; length++) {
      expect(() => decodeRequest(definition.apiKey, version, frame.subarray(0, length), headerSize)).toThrow(ProtocolError);
    }
    for (let length = 0; length < headerSize; length++) {
      expect(() => decodeRequestHeader(frame.subarray(0, length))).toThrow(ProtocolError);
    }
  });

  it.each(cases)('$label: every truncation of the response throws ProtocolError', ({ definition, version }) => {
    const body = sampleStruct(definition.response.fields, version, 'values');
    const frame = encodeResponse(definition.apiKey, version, 6, body as never).subarray(4);
    for (let length = 0; length < frame.length; length++) {
      expect(() => decodeResponse(definition.apiKey, version, frame.subarray(0, length))).toThrow(ProtocolError);
    }
  });

  it('fields a version lacks decode to their spec defaults', () => {
    const wire = encodeRequest(ApiKey.Fetch, 0, 1, null, { replicaId: -1, maxWait: 100, minBytes: 1, topics: [] });
    const frame = wire.subarray(4);
    const body = decodeRequest(ApiKey.Fetch, 0, frame, decodeRequestHeader(frame).headerSize);
    expect(body).toEqual({
      replicaId: -1,
      maxWait: 100,
      minBytes: 1,
      maxBytes: 0x7fffffff,
      isolationLevel: 0,
      sessionId: 0,
      epoch: -1,
      topics: [],
      forgotten: [],
      rackId: '',
    });
  });

  it('omitted fields are encoded as their defaults', () => {
    const wire = encodeResponse(ApiKey.Metadata, 9, 1, { topics: [{ name: 'orders', partitions: [{ partitionIndex: 0 }] }] });
    const { body } = decodeResponse(ApiKey.Metadata, 9, wire.subarray(4));
    expect(body).toEqual({
      throttleTimeMs: 0,
      brokers: [],
      clusterId: null,
      controllerId: -1,
      topics: [
        {
          errorCode: 0,
          name: 'orders',
          isInternal: false,
          partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 0, leaderEpoch: -1, replicaNodes: [], isrNodes: [], offlineReplicas: [] }],
          topicAuthorizedOperations: -2147483648,
        },
      ],
      clusterAuthorizedOperations: -2147483648,
    });
  });
});

describe('flexible versions (KIP-482)', () => {
  it('decodes a librdkafka-style ApiVersions v3 request: header v2 and compact strings', () => {
    const frame = Buffer.concat([
      Buffer.from([0, 18, 0, 3, 0, 0, 0, 1]), // api key, version, correlation id
      Buffer.from([0, 7]),
      Buffer.from('rdkafka'), // client id keeps its int16 length in header v2
      Buffer.from([0]), // header tagged fields
      Buffer.from([11]),
      Buffer.from('librdkafka'), // compact string: length + 1
      Buffer.from([6]),
      Buffer.from('2.3.0'),
      Buffer.from([0]), // body tagged fields
    ]);
    const header = decodeRequestHeader(frame);
    expect(header).toEqual({ apiKey: 18, apiVersion: 3, correlationId: 1, clientId: 'rdkafka', headerSize: 18 });
    expect(decodeRequest(ApiKey.ApiVersions, 3, frame, header.headerSize)).toEqual({
      clientSoftwareName: 'librdkafka',
      clientSoftwareVersion: '2.3.0',
    });
  });

  it('skips unknown tagged fields in the header and the body', () => {
    const frame = Buffer.concat([
      Buffer.from([0, 18, 0, 3, 0, 0, 0, 1, 0xff, 0xff]), // null client id
      Buffer.from([1, 9, 2, 0xaa, 0xbb]), // header: one tagged field, tag 9, 2 bytes
      Buffer.from([2, 0x61, 2, 0x62]), // "a", "b"
      Buffer.from([2, 40, 1, 0xcc, 3, 0]), // body: tag 40 (1 byte), tag 3 (0 bytes)
    ]);
    const header = decodeRequestHeader(frame);
    expect(header).toMatchObject({ clientId: null, headerSize: 15 });
    expect(decodeRequest(ApiKey.ApiVersions, 3, frame, header.headerSize)).toEqual({ clientSoftwareName: 'a', clientSoftwareVersion: 'b' });
  });

  it('writes tagged fields only when they differ from the default, and reads them back', () => {
    const withoutTags = encodeResponse(ApiKey.ApiVersions, 3, 1, { apiKeys: [] });
    const withTags = encodeResponse(ApiKey.ApiVersions, 3, 1, {
      apiKeys: [],
      supportedFeatures: [{ name: 'metadata.version', minVersion: 1, maxVersion: 7 }],
      finalizedFeaturesEpoch: 3n,
    });
    // correlation id, error code, compact array (0 → 1), throttle time, empty tag section.
    expect(withoutTags.subarray(4)).toEqual(Buffer.from([0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0]));
    expect(decodeResponse(ApiKey.ApiVersions, 3, withTags.subarray(4)).body).toEqual({
      errorCode: 0,
      apiKeys: [],
      throttleTimeMs: 0,
      supportedFeatures: [{ name: 'metadata.version', minVersion: 1, maxVersion: 7 }],
      finalizedFeaturesEpoch: 3n,
      finalizedFeatures: [],
    });
  });

  it('ApiVersions responses keep response header v0 even at v3; other flexible responses use v1', () => {
    const apiVersions = encodeResponse(ApiKey.ApiVersions, 3, 0x01020304, { apiKeys: [] });
    expect(apiVersions.readInt32BE(4)).toBe(0x01020304);
    expect(apiVersions[8]).toBe(0); // first byte of the error code, not a tag section
    expect(apiVersions.length).toBe(4 + 12);
    const metadata = encodeResponse(ApiKey.Metadata, 9, 7, {});
    const metadataV8 = encodeResponse(ApiKey.Metadata, 8, 7, {});
    expect(metadata.subarray(4, 9)).toEqual(Buffer.from([0, 0, 0, 7, 0])); // correlation id + empty header tags
    expect(metadataV8.length).toBeGreaterThan(0);
  });

  it('encodes compact nullable strings and arrays with length + 1 (null = 0)', () => {
    const wire = encodeResponse(ApiKey.FindCoordinator, 2, 1, { errorMessage: null });
    const flexibleWire = encodeResponse(ApiKey.JoinGroup, 7, 1, { protocolType: null, protocolName: null, leader: '', memberId: '' });
    expect(decodeResponse(ApiKey.FindCoordinator, 2, wire.subarray(4)).body.errorMessage).toBeNull();
    const joinGroup = decodeResponse(ApiKey.JoinGroup, 7, flexibleWire.subarray(4)).body;
    expect(joinGroup).toMatchObject({ protocolType: null, protocolName: null, leader: '', memberId: '' });
    // header tags 0, throttle 0, error 0, generation -1, then protocolType null = 0, protocolName null = 0, leader "" = 1
    expect(flexibleWire.subarray(9, 9 + 4 + 2 + 4 + 3)).toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 1]));
  });
});

describe('ApiVersions negotiation', () => {
  it('answers a too-new ApiVersions request in the v0 layout with UNSUPPORTED_VERSION and our ranges', () => {
    const wire = encodeApiVersionsUnsupported(77, [{ apiKey: 18, minVersion: 0, maxVersion: 3 }]);
    expect(wire).toEqual(Buffer.from([0, 0, 0, 16, 0, 0, 0, 77, 0, 35, 0, 0, 0, 1, 0, 18, 0, 0, 0, 3]));
    const all = decodeResponse(ApiKey.ApiVersions, 0, encodeApiVersionsUnsupported(1).subarray(4)).body;
    expect(all.errorCode).toBe(35);
    expect(all.apiKeys).toEqual(SUPPORTED_APIS.map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion })));
  });

  it('reads the header of a too-new flexible request (ApiVersions v4) as header v2', () => {
    const frame = Buffer.from([0, 18, 0, 4, 0, 0, 0, 9, 0, 1, 0x78, 0, 0xde, 0xad]);
    expect(decodeRequestHeader(frame)).toEqual({ apiKey: 18, apiVersion: 4, correlationId: 9, clientId: 'x', headerSize: 12 });
    expect(() => decodeRequest(ApiKey.ApiVersions, 4, frame, 12)).toThrow(/ApiVersions version 4 is not supported/);
  });

  it('rejects unknown API keys with a ProtocolError', () => {
    expect(() => decodeRequest(99 as ApiKey, 0, Buffer.alloc(8), 0)).toThrow(ProtocolError);
  });
});

describe('hostile input', () => {
  it('rejects a huge array count without allocating it', () => {
    // Produce v3: transactionalId null, acks, timeout, topics count 0x7fffffff and nothing after.
    const body = Buffer.from([0xff, 0xff, 0, 1, 0, 0, 0x75, 0x30, 0x7f, 0xff, 0xff, 0xff]);
    expect(() => decodeRequest(ApiKey.Produce, 3, body, 0)).toThrow(/claims 2147483647 elements/);
  });

  it('rejects a huge bytes length', () => {
    // SaslAuthenticate v0: bytes length 0x7fffffff.
    expect(() => decodeRequest(ApiKey.SaslAuthenticate, 0, Buffer.from([0x7f, 0xff, 0xff, 0xff, 1]), 0)).toThrow(/truncated input/);
  });

  it('rejects negative lengths other than -1, and null in a non-nullable field', () => {
    expect(() => decodeRequest(ApiKey.SaslHandshake, 0, Buffer.from([0xff, 0xfe]), 0)).toThrow(/invalid length -2/);
    expect(() => decodeRequest(ApiKey.SaslHandshake, 0, Buffer.from([0xff, 0xff]), 0)).toThrow(/invalid length -1 for field mechanism/);
  });

  it('rejects an unsigned varint longer than 5 bytes', () => {
    expect(() => decodeRequest(ApiKey.ApiVersions, 3, Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), 0)).toThrow(/varint/);
  });

  it('throws only ProtocolError on randomly corrupted requests', () => {
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (const { definition, version } of cases) {
      const body = sampleStruct(definition.request.fields, version, 'values');
      const frame = Buffer.from(encodeRequest(definition.apiKey, version, 5, 'client', body as never).subarray(4));
      for (let attempt = 0; attempt < 40; attempt++) {
        const corrupted = Buffer.from(frame);
        for (let flips = 0; flips < 3; flips++) corrupted[Math.floor(random() * corrupted.length)] = Math.floor(random() * 256);
        try {
          const header = decodeRequestHeader(corrupted);
          decodeRequest(definition.apiKey, version, corrupted, header.headerSize);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }
    }
  });

  it('refuses to encode null into a non-nullable field', () => {
    expect(() => encodeResponse(ApiKey.Metadata, 9, 1, { topics: [{ name: null as never }] })).toThrow(/not nullable/);
  });
});

describe('primitive reader and writer', () => {
  it('round-trips unsigned varints at the 7-bit boundaries', () => {
    for (const value of [0, 1, 127, 128, 16383, 16384, 2 ** 21, 2 ** 28, 0xffffffff]) {
      const writer = new Writer(1);
      writer.uvarint(value);
      const reader = new Reader(writer.finish());
      expect(reader.uvarint()).toBe(value);
      expect(reader.remaining).toBe(0);
    }
  });

  it('grows its buffer for large values (a multi-megabyte record set)', () => {
    const records = Buffer.alloc(3 * 1024 * 1024, 7);
    const wire = encodeResponse(ApiKey.Fetch, 11, 1, {
      responses: [{ topic: 'orders', partitionResponses: [{ partition: 0, recordSet: records }] }],
    });
    const { body } = decodeResponse(ApiKey.Fetch, 11, wire.subarray(4));
    // Buffer.equals: vitest's deep equality walks a Buffer byte by byte.
    expect(body.responses[0].partitionResponses[0].recordSet!.equals(records)).toBe(true);
  });
});
