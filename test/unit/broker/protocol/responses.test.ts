/**
 * Every response version kafkajs 2.2.4 can ask for, encoded by the broker codecs, reads back in
 * kafkajs's own decoders exactly as written.
 */
import { describe, expect, it } from 'vitest';
import {
  ApiKey,
  ErrorCode,
  SUPPORTED_APIS,
  buildRecordBatch,
  encodeResponse,
  type ResponseInput,
} from '../../../../src/embedded/broker/protocol/index.js';
import { kafkajsReadResponse, kafkajsVersions } from './kafkajs.js';

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, index) => from + index);

async function readWithKafkajs<K extends ApiKey>(
  apiKey: K,
  api: string,
  version: number,
  body: ResponseInput<K>,
  options: { parse?: boolean; requestArgs?: unknown } = {},
): Promise<any> {
  const wire = encodeResponse(apiKey, version, 99, body);
  expect(wire.readInt32BE(4)).toBe(99); // response header v0: correlation id only
  return kafkajsReadResponse(api, version, wire, options);
}

describe('advertised versions', () => {
  const kafkajsApis: [string, ApiKey][] = [
    ['produce', ApiKey.Produce],
    ['fetch', ApiKey.Fetch],
    ['listOffsets', ApiKey.ListOffsets],
    ['metadata', ApiKey.Metadata],
    ['offsetCommit', ApiKey.OffsetCommit],
    ['offsetFetch', ApiKey.OffsetFetch],
    ['findCoordinator', ApiKey.FindCoordinator],
    ['joinGroup', ApiKey.JoinGroup],
    ['heartbeat', ApiKey.Heartbeat],
    ['leaveGroup', ApiKey.LeaveGroup],
    ['syncGroup', ApiKey.SyncGroup],
    ['describeGroups', ApiKey.DescribeGroups],
    ['listGroups', ApiKey.ListGroups],
    ['saslHandshake', ApiKey.SaslHandshake],
    ['apiVersions', ApiKey.ApiVersions],
    ['createTopics', ApiKey.CreateTopics],
    ['deleteTopics', ApiKey.DeleteTopics],
    ['deleteRecords', ApiKey.DeleteRecords],
    ['initProducerId', ApiKey.InitProducerId],
    ['describeConfigs', ApiKey.DescribeConfigs],
    ['saslAuthenticate', ApiKey.SaslAuthenticate],
    ['createPartitions', ApiKey.CreatePartitions],
    ['deleteGroups', ApiKey.DeleteGroups],
  ];

  it.each(kafkajsApis)('cover every %s version kafkajs implements', (api, apiKey) => {
    const supported = SUPPORTED_APIS.find((entry) => entry.apiKey === apiKey)!;
    for (const version of kafkajsVersions(api)) {
      expect(version).toBeGreaterThanOrEqual(supported.minVersion);
      expect(version).toBeLessThanOrEqual(supported.maxVersion);
    }
  });

  it('lists each API once', () => {
    expect(new Set(SUPPORTED_APIS.map((api) => api.apiKey)).size).toBe(SUPPORTED_APIS.length);
    expect(SUPPORTED_APIS).toHaveLength(kafkajsApis.length);
  });
});

describe('ApiVersions response', () => {
  it.each([0, 1, 2])('is read by kafkajs at v%i', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.ApiVersions, 'apiVersions', version, {
      errorCode: 0,
      apiKeys: SUPPORTED_APIS.map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion })),
      throttleTimeMs: 0,
    });
    expect(decoded.errorCode).toBe(0);
    expect(decoded.apiVersions).toContainEqual({ apiKey: 0, minVersion: 0, maxVersion: 8 });
    expect(decoded.apiVersions).toHaveLength(SUPPORTED_APIS.length);
  });
});

describe('Metadata response', () => {
  const body: ResponseInput<typeof ApiKey.Metadata> = {
    brokers: [{ nodeId: 0, host: 'localhost', port: 9092, rack: null }],
    clusterId: 'tandem-embedded',
    controllerId: 0,
    topics: [
      {
        errorCode: 0,
        name: 'orders',
        isInternal: false,
        partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 0, leaderEpoch: 0, replicaNodes: [0], isrNodes: [0], offlineReplicas: [] }],
      },
    ],
  };

  it.each(range(0, 6))('is read by kafkajs at v%i', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.Metadata, 'metadata', version, body);
    expect(decoded.brokers).toEqual([expect.objectContaining({ nodeId: 0, host: 'localhost', port: 9092 })]);
    expect(decoded.topicMetadata).toEqual([
      expect.objectContaining({
        topicErrorCode: 0,
        topic: 'orders',
        partitionMetadata: [expect.objectContaining({ partitionErrorCode: 0, partitionId: 0, leader: 0, replicas: [0], isr: [0] })],
      }),
    ]);
    if (version >= 1) expect(decoded.controllerId).toBe(0);
    if (version >= 2) expect(decoded.clusterId).toBe('tandem-embedded');
  });

  it('reports a topic error that kafkajs raises', async () => {
    const decoded = await readWithKafkajs(
      ApiKey.Metadata,
      'metadata',
      6,
      { brokers: [], topics: [{ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name: 'missing', partitions: [] }] },
      { parse: false },
    );
    expect(decoded.topicMetadata[0]).toMatchObject({ topicErrorCode: 3, topic: 'missing' });
  });
});

describe('Produce response', () => {
  it.each(range(0, 7))('is read by kafkajs at v%i', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.Produce, 'produce', version, {
      responses: [
        {
          name: 'orders',
          partitionResponses: [{ index: 2, errorCode: 0, baseOffset: 1234n, logAppendTimeMs: -1n, logStartOffset: 0n }],
        },
      ],
      throttleTimeMs: 0,
    });
    expect(decoded.topics).toEqual([
      {
        topicName: 'orders',
        partitions: [
          expect.objectContaining({
            partition: 2,
            errorCode: 0,
            // kafkajs names them offset/timestamp before v3.
            ...(version >= 3 ? { baseOffset: '1234' } : { offset: '1234' }),
            ...(version >= 3 ? { logAppendTime: '-1' } : version === 2 ? { timestamp: '-1' } : {}),
            ...(version >= 5 ? { logStartOffset: '0' } : {}),
          }),
        ],
      },
    ]);
  });
});

describe('Fetch response', () => {
  const batch = buildRecordBatch({
    baseOffset: 10n,
    baseTimestamp: 1_700_000_000_000n,
    records: [
      { key: Buffer.from('k1'), value: Buffer.from('v1'), headers: [{ key: 'trace', value: Buffer.from('abc') }] },
      { key: null, value: Buffer.from('v2'), timestamp: 1_700_000_000_007n },
    ],
  });

  it.each(range(4, 11))('is read by kafkajs at v%i, including the record batch', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.Fetch, 'fetch', version, {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [
        {
          topic: 'orders',
          partitionResponses: [
            { partition: 0, errorCode: 0, highWatermark: 12n, lastStableOffset: 12n, logStartOffset: 0n, abortedTransactions: null, recordSet: batch },
          ],
        },
      ],
    });
    const partition = decoded.responses[0].partitions[0];
    expect(decoded.responses[0].topicName).toBe('orders');
    expect(partition).toMatchObject({ partition: 0, errorCode: 0, highWatermark: '12', lastStableOffset: '12' });
    expect(partition.messages).toHaveLength(2);
    expect(partition.messages[0]).toMatchObject({ offset: '10', timestamp: '1700000000000', headers: { trace: Buffer.from('abc') } });
    expect(partition.messages[0].key.toString()).toBe('k1');
    expect(partition.messages[1]).toMatchObject({ offset: '11', key: null, timestamp: '1700000000007' });
    expect(partition.messages[1].value.toString()).toBe('v2');
  });

  it.each(range(0, 3))('is read by kafkajs at v%i (no records)', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.Fetch, 'fetch', version, {
      responses: [{ topic: 'orders', partitionResponses: [{ partition: 0, errorCode: 0, highWatermark: 5n, recordSet: Buffer.alloc(0) }] }],
    });
    expect(decoded.responses[0].partitions[0]).toMatchObject({ partition: 0, errorCode: 0, highWatermark: '5', messages: [] });
  });

  it('carries an OFFSET_OUT_OF_RANGE partition error to kafkajs', async () => {
    const decoded = await readWithKafkajs(
      ApiKey.Fetch,
      'fetch',
      11,
      { responses: [{ topic: 'orders', partitionResponses: [{ partition: 0, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, highWatermark: 5n }] }] },
      { parse: false },
    );
    expect(decoded.responses[0].partitions[0]).toMatchObject({ errorCode: 1, messages: [], preferredReadReplica: -1 });
  });
});

describe('ListOffsets response', () => {
  it('is read by kafkajs at v0 (old-style offsets array)', async () => {
    const decoded = await readWithKafkajs(ApiKey.ListOffsets, 'listOffsets', 0, {
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0, oldStyleOffsets: [42n] }] }],
    });
    expect(decoded.responses).toEqual([{ topic: 'orders', partitions: [{ partition: 0, errorCode: 0, offsets: ['42'] }] }]);
  });

  it.each(range(1, 3))('is read by kafkajs at v%i', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.ListOffsets, 'listOffsets', version, {
      throttleTimeMs: 0,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0, timestamp: -1n, offset: 42n }] }],
    });
    expect(decoded.responses).toEqual([{ topic: 'orders', partitions: [{ partition: 0, errorCode: 0, timestamp: '-1', offset: '42' }] }]);
  });
});

describe('FindCoordinator response', () => {
  it.each(range(0, 2))('is read by kafkajs at v%i', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.FindCoordinator, 'findCoordinator', version, {
      errorCode: 0,
      errorMessage: null,
      nodeId: 0,
      host: 'localhost',
      port: 9092,
    });
    expect(decoded).toMatchObject({ errorCode: 0, coordinator: { nodeId: 0, host: 'localhost', port: 9092 } });
  });
});

describe('JoinGroup response', () => {
  it.each(range(0, 5))('is read by kafkajs at v%i', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.JoinGroup, 'joinGroup', version, {
      errorCode: 0,
      generationId: 3,
      protocolName: 'RoundRobinAssigner',
      leader: 'member-1',
      memberId: 'member-1',
      members: [{ memberId: 'member-1', groupInstanceId: null, metadata: Buffer.from([0, 1]) }],
    });
    expect(decoded).toMatchObject({
      errorCode: 0,
      generationId: 3,
      groupProtocol: 'RoundRobinAssigner',
      leaderId: 'member-1',
      memberId: 'member-1',
      members: [expect.objectContaining({ memberId: 'member-1', memberMetadata: Buffer.from([0, 1]) })],
    });
  });

  it('tells kafkajs v4+ to rejoin with the assigned member id (MEMBER_ID_REQUIRED)', async () => {
    const decoded = await readWithKafkajs(
      ApiKey.JoinGroup,
      'joinGroup',
      5,
      { errorCode: ErrorCode.MEMBER_ID_REQUIRED, memberId: 'tandem-1-abc' },
      { parse: false },
    );
    expect(decoded).toMatchObject({ errorCode: 79, memberId: 'tandem-1-abc', generationId: -1, members: [] });
  });
});

describe('SyncGroup, Heartbeat and LeaveGroup responses', () => {
  it.each(range(0, 3))('SyncGroup is read by kafkajs at v%i', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.SyncGroup, 'syncGroup', version, { errorCode: 0, assignment: Buffer.from('assigned') });
    expect(decoded).toMatchObject({ errorCode: 0, memberAssignment: Buffer.from('assigned') });
  });

  it.each(range(0, 3))('Heartbeat is read by kafkajs at v%i', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.Heartbeat, 'heartbeat', version, { errorCode: ErrorCode.REBALANCE_IN_PROGRESS }, { parse: false });
    expect(decoded.errorCode).toBe(27);
  });

  it.each(range(0, 2))('LeaveGroup is read by kafkajs at v%i', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.LeaveGroup, 'leaveGroup', version, { errorCode: 0 });
    expect(decoded.errorCode).toBe(0);
  });

  it('LeaveGroup v3 reports per-member results', async () => {
    const decoded = await readWithKafkajs(ApiKey.LeaveGroup, 'leaveGroup', 3, {
      errorCode: 0,
      members: [{ memberId: 'member-1', groupInstanceId: null, errorCode: 0 }],
    });
    expect(decoded).toMatchObject({ errorCode: 0, members: [{ memberId: 'member-1', groupInstanceId: null, errorCode: 0 }] });
  });
});

describe('OffsetCommit and OffsetFetch responses', () => {
  it.each(range(0, 5))('OffsetCommit is read by kafkajs at v%i', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.OffsetCommit, 'offsetCommit', version, {
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, errorCode: 0 }] }],
    });
    expect(decoded.responses).toEqual([{ topic: 'orders', partitions: [{ partition: 1, errorCode: 0 }] }]);
  });

  it.each(range(1, 4))('OffsetFetch is read by kafkajs at v%i', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.OffsetFetch, 'offsetFetch', version, {
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 0, committedOffset: 100n, metadata: null, errorCode: 0 },
            { partitionIndex: 1, committedOffset: -1n, metadata: '', errorCode: 0 },
          ],
        },
      ],
      errorCode: 0,
    });
    expect(decoded.responses).toEqual([
      {
        topic: 'orders',
        partitions: [
          { partition: 0, offset: '100', metadata: null, errorCode: 0 },
          { partition: 1, offset: '-1', metadata: '', errorCode: 0 },
        ],
      },
    ]);
  });
});

describe('group listing responses', () => {
  it.each(range(0, 2))('DescribeGroups is read by kafkajs at v%i', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.DescribeGroups, 'describeGroups', version, {
      groups: [
        {
          errorCode: 0,
          groupId: 'translate',
          groupState: 'Stable',
          protocolType: 'consumer',
          protocolData: 'RoundRobinAssigner',
          members: [
            {
              memberId: 'member-1',
              clientId: 'tandem',
              clientHost: '/127.0.0.1',
              memberMetadata: Buffer.from([1]),
              memberAssignment: Buffer.from([2]),
            },
          ],
        },
      ],
    });
    expect(decoded.groups).toEqual([
      {
        errorCode: 0,
        groupId: 'translate',
        state: 'Stable',
        protocolType: 'consumer',
        protocol: 'RoundRobinAssigner',
        members: [
          { memberId: 'member-1', clientId: 'tandem', clientHost: '/127.0.0.1', memberMetadata: Buffer.from([1]), memberAssignment: Buffer.from([2]) },
        ],
      },
    ]);
  });

  it.each(range(0, 2))('ListGroups is read by kafkajs at v%i', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.ListGroups, 'listGroups', version, {
      errorCode: 0,
      groups: [{ groupId: 'translate', protocolType: 'consumer' }],
    });
    expect(decoded).toMatchObject({ errorCode: 0, groups: [{ groupId: 'translate', protocolType: 'consumer' }] });
  });

  it.each([0, 1])('DeleteGroups is read by kafkajs at v%i', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.DeleteGroups, 'deleteGroups', version, {
      results: [{ groupId: 'translate', errorCode: ErrorCode.NON_EMPTY_GROUP }],
    }, { parse: false });
    expect(decoded.results).toEqual([expect.objectContaining({ groupId: 'translate', errorCode: 68 })]);
  });
});

describe('SASL responses', () => {
  it.each([0, 1])('SaslHandshake is read by kafkajs at v%i', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.SaslHandshake, 'saslHandshake', version, { errorCode: 0, mechanisms: ['PLAIN'] });
    expect(decoded).toMatchObject({ errorCode: 0, enabledMechanisms: ['PLAIN'] });
  });

  it.each([0, 1])('SaslAuthenticate is read by kafkajs at v%i', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.SaslAuthenticate, 'saslAuthenticate', version, {
      errorCode: 0,
      errorMessage: null,
      authBytes: Buffer.alloc(0),
      sessionLifetimeMs: 0n,
    });
    expect(decoded).toMatchObject({ errorCode: 0, errorMessage: null });
  });
});

describe('admin responses', () => {
  it.each(range(0, 3))('CreateTopics is read by kafkajs at v%i', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.CreateTopics, 'createTopics', version, {
      topics: [
        { name: 'orders', errorCode: 0, errorMessage: null },
        { name: 'existing', errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: 'Topic existing already exists.' },
      ],
    }, { parse: false });
    expect(decoded.topicErrors).toEqual([
      expect.objectContaining({ topic: 'existing', errorCode: 36 }),
      expect.objectContaining({ topic: 'orders', errorCode: 0 }),
    ]);
    if (version >= 1) expect(decoded.topicErrors[0].errorMessage).toBe('Topic existing already exists.');
  });

  it.each([0, 1])('DeleteTopics is read by kafkajs at v%i', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.DeleteTopics, 'deleteTopics', version, { responses: [{ name: 'orders', errorCode: 0 }] });
    expect(decoded.topicErrors).toEqual([{ topic: 'orders', errorCode: 0 }]);
  });

  it.each([0, 1])('CreatePartitions is read by kafkajs at v%i', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.CreatePartitions, 'createPartitions', version, {
      results: [{ name: 'orders', errorCode: 0, errorMessage: null }],
    });
    expect(decoded.topicErrors).toEqual([{ topic: 'orders', errorCode: 0, errorMessage: null }]);
  });

  it.each([0, 1])('DeleteRecords is read by kafkajs at v%i', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.DeleteRecords, 'deleteRecords', version, {
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, lowWatermark: 17n, errorCode: 0 }] }],
    }, { requestArgs: [{ topic: 'orders', partitions: [{ partition: 0, offset: '17' }] }] });
    expect(decoded.topics).toEqual([{ topic: 'orders', partitions: [{ partition: 0, lowWatermark: expect.anything(), errorCode: 0 }] }]);
    expect(String(decoded.topics[0].partitions[0].lowWatermark)).toBe('17');
  });

  it.each([0, 1])('InitProducerId is read by kafkajs at v%i', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.InitProducerId, 'initProducerId', version, { errorCode: 0, producerId: 4000n, producerEpoch: 0 });
    expect(decoded).toMatchObject({ errorCode: 0, producerId: '4000', producerEpoch: 0 });
  });

  it.each(range(0, 2))('DescribeConfigs is read by kafkajs at v%i', async (version) => {
    const decoded = await readWithKafkajs(ApiKey.DescribeConfigs, 'describeConfigs', version, {
      results: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 2,
          resourceName: 'orders',
          configs: [
            { name: 'retention.ms', value: '604800000', readOnly: false, isDefault: true, configSource: 5, isSensitive: false, synonyms: [] },
          ],
        },
      ],
    });
    expect(decoded.resources).toEqual([
      expect.objectContaining({
        errorCode: 0,
        resourceType: 2,
        resourceName: 'orders',
        configEntries: [expect.objectContaining({ configName: 'retention.ms', configValue: '604800000', readOnly: false, isDefault: true, isSensitive: false })],
      }),
    ]);
  });
});
