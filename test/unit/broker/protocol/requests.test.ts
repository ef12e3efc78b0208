/**
 * Every request kafkajs 2.2.4 can send, encoded by kafkajs itself, decodes to the spec-named body.
 */
import { describe, expect, it } from 'vitest';
import {
  ApiKey,
  decodeRequest,
  decodeRequestHeader,
  readBatchHeader,
  splitBatches,
  validateBatches,
  type RequestBody,
} from '../../../../src/embedded/broker/protocol/index.js';
import { Long, kafkajsRecord, kafkajsRequestFrame, kafkajsVersions } from './kafkajs.js';

async function decodeKafkajs<K extends ApiKey>(apiKey: K, api: string, version: number, args: unknown): Promise<RequestBody<K>> {
  const frame = await kafkajsRequestFrame(api, version, args, 7, 'tandem-test');
  const header = decodeRequestHeader(frame);
  expect(header).toMatchObject({ apiKey, apiVersion: version, correlationId: 7, clientId: 'tandem-test' });
  return decodeRequest(apiKey, version, frame, header.headerSize);
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, index) => from + index);

describe('kafkajs request versions', () => {
  it.each([
    ['produce', 0, 7],
    ['fetch', 0, 11],
    ['listOffsets', 0, 3],
    ['metadata', 0, 6],
    ['offsetCommit', 0, 5],
    ['offsetFetch', 1, 4],
    ['joinGroup', 0, 5],
    ['describeConfigs', 0, 2],
  ])('this suite covers every %s version kafkajs knows', (api, min, max) => {
    expect(kafkajsVersions(api)).toEqual(range(min, max));
  });
});

describe('ApiVersions request', () => {
  it.each([0, 1, 2])('decodes the empty v%i body kafkajs sends', async (version) => {
    const body = await decodeKafkajs(ApiKey.ApiVersions, 'apiVersions', version, undefined);
    expect(body).toEqual({ clientSoftwareName: '', clientSoftwareVersion: '' });
  });
});

describe('Metadata request', () => {
  it.each(range(0, 6))('decodes topics (and allowAutoTopicCreation from v4) at v%i', async (version) => {
    const body = await decodeKafkajs(ApiKey.Metadata, 'metadata', version, { topics: ['orders', 'customers'], allowAutoTopicCreation: false });
    expect(body.topics).toEqual([{ name: 'orders' }, { name: 'customers' }]);
    expect(body.allowAutoTopicCreation).toBe(version >= 4 ? false : true);
  });

  it('decodes an empty topic list (all topics in v0)', async () => {
    const body = await decodeKafkajs(ApiKey.Metadata, 'metadata', 0, { topics: [] });
    expect(body.topics).toEqual([]);
  });

  it.each(range(1, 6))('decodes "all topics" at v%i: kafkajs writes an empty list as null', async (version) => {
    const body = await decodeKafkajs(ApiKey.Metadata, 'metadata', version, { topics: [] });
    expect(body.topics).toBeNull();
  });
});

describe('Produce request', () => {
  const messages = [
    { key: 'k1', value: 'v1', timestamp: 1_700_000_000_000, headers: { trace: 'abc' } },
    { key: null, value: 'v2', timestamp: 1_700_000_000_005 },
  ];

  it.each(range(3, 7))('decodes v%i with a v2 record batch kept as raw bytes', async (version) => {
    const body = await decodeKafkajs(ApiKey.Produce, 'produce', version, {
      acks: -1,
      timeout: 30000,
      transactionalId: version >= 3 ? 'tx-1' : undefined,
      producerId: Long.fromNumber(4000),
      producerEpoch: 2,
      topicData: [{ topic: 'orders', partitions: [{ partition: 3, firstSequence: 10, messages }] }],
    });
    expect(body).toMatchObject({ transactionalId: 'tx-1', acks: -1, timeoutMs: 30000 });
    expect(body.topicData).toHaveLength(1);
    expect(body.topicData[0].name).toBe('orders');
    const partition = body.topicData[0].partitionData[0];
    expect(partition.index).toBe(3);
    const [{ header }] = validateBatches(partition.records!);
    expect(header).toMatchObject({
      magic: 2,
      recordCount: 2,
      lastOffsetDelta: 1,
      baseTimestamp: 1_700_000_000_000n,
      maxTimestamp: 1_700_000_000_005n,
      producerId: 4000n,
      producerEpoch: 2,
      baseSequence: 10,
    });
  });

  it.each([0, 1, 2])('decodes v%i, whose records are an old (magic 0/1) message set the broker must reject', async (version) => {
    const body = await decodeKafkajs(ApiKey.Produce, 'produce', version, {
      acks: 1,
      timeout: 1000,
      topicData: [{ topic: 'orders', partitions: [{ partition: 0, messages }] }],
    });
    expect(body).toMatchObject({ transactionalId: null, acks: 1, timeoutMs: 1000 });
    const records = body.topicData[0].partitionData[0].records!;
    expect(records.length).toBeGreaterThan(0);
    expect(() => splitBatches(records)).toThrow(/magic [01] is not supported/);
  });
});

describe('Fetch request', () => {
  const topics = [{ topic: 'orders', partitions: [{ partition: 1, fetchOffset: '42', maxBytes: 1048576, currentLeaderEpoch: 5, logStartOffset: 3 }] }];

  it.each(range(0, 11))('decodes v%i', async (version) => {
    const body = await decodeKafkajs(ApiKey.Fetch, 'fetch', version, {
      replicaId: -1,
      maxWaitTime: 500,
      minBytes: 1,
      maxBytes: 10485760,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: -1,
      rackId: 'rack-a',
      topics,
      forgottenTopics: [],
    });
    expect(body).toMatchObject({ replicaId: -1, maxWait: 500, minBytes: 1 });
    expect(body.maxBytes).toBe(version >= 3 ? 10485760 : 0x7fffffff);
    expect(body.isolationLevel).toBe(version >= 4 ? 1 : 0);
    expect(body.epoch).toBe(-1);
    expect(body.rackId).toBe(version >= 11 ? 'rack-a' : '');
    expect(body.topics).toEqual([
      {
        name: 'orders',
        fetchPartitions: [
          {
            partitionIndex: 1,
            fetchOffset: 42n,
            maxBytes: 1048576,
            currentLeaderEpoch: version >= 9 ? 5 : -1,
            logStartOffset: version >= 5 ? 3n : -1n,
          },
        ],
      },
    ]);
    expect(body.forgotten).toEqual([]);
  });
});

describe('ListOffsets request', () => {
  it.each(range(0, 3))('decodes v%i', async (version) => {
    const body = await decodeKafkajs(ApiKey.ListOffsets, 'listOffsets', version, {
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ topic: 'orders', partitions: [{ partition: 0, timestamp: -2 }] }],
    });
    expect(body.replicaId).toBe(-1);
    expect(body.isolationLevel).toBe(version >= 2 ? 1 : 0);
    expect(body.topics).toEqual([
      {
        name: 'orders',
        partitions: [{ partitionIndex: 0, timestamp: -2n, currentLeaderEpoch: -1, maxNumOffsets: version === 0 ? 1 : 1 }],
      },
    ]);
  });
});

describe('FindCoordinator request', () => {
  it('decodes v0 (group key only)', async () => {
    const body = await decodeKafkajs(ApiKey.FindCoordinator, 'findCoordinator', 0, { groupId: 'translate' });
    expect(body).toEqual({ key: 'translate', keyType: 0 });
  });
  it.each([1, 2])('decodes v%i with the key type', async (version) => {
    const body = await decodeKafkajs(ApiKey.FindCoordinator, 'findCoordinator', version, { coordinatorKey: 'tx-1', coordinatorType: 1 });
    expect(body).toEqual({ key: 'tx-1', keyType: 1 });
  });
});

describe('JoinGroup request', () => {
  it.each(range(0, 5))('decodes v%i', async (version) => {
    const body = await decodeKafkajs(ApiKey.JoinGroup, 'joinGroup', version, {
      groupId: 'translate',
      sessionTimeout: 30000,
      rebalanceTimeout: 60000,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      groupProtocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.from([0, 1, 2]) }],
    });
    expect(body).toMatchObject({
      groupId: 'translate',
      sessionTimeoutMs: 30000,
      rebalanceTimeoutMs: version >= 1 ? 60000 : -1,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      reason: null,
    });
    expect(body.protocols).toEqual([{ name: 'RoundRobinAssigner', metadata: Buffer.from([0, 1, 2]) }]);
  });
});

describe('SyncGroup request', () => {
  it.each(range(0, 3))('decodes v%i', async (version) => {
    const body = await decodeKafkajs(ApiKey.SyncGroup, 'syncGroup', version, {
      groupId: 'translate',
      generationId: 4,
      memberId: 'member-1',
      groupInstanceId: version >= 3 ? 'instance-1' : null,
      groupAssignment: [{ memberId: 'member-1', memberAssignment: Buffer.from('assignment') }],
    });
    expect(body).toEqual({
      groupId: 'translate',
      generationId: 4,
      memberId: 'member-1',
      groupInstanceId: version >= 3 ? 'instance-1' : null,
      assignments: [{ memberId: 'member-1', assignment: Buffer.from('assignment') }],
    });
  });
});

describe('Heartbeat request', () => {
  it.each(range(0, 3))('decodes v%i', async (version) => {
    const body = await decodeKafkajs(ApiKey.Heartbeat, 'heartbeat', version, {
      groupId: 'translate',
      groupGenerationId: 4,
      memberId: 'member-1',
      groupInstanceId: null,
    });
    expect(body).toEqual({ groupId: 'translate', generationId: 4, memberId: 'member-1', groupInstanceId: null });
  });
});

describe('LeaveGroup request', () => {
  it.each(range(0, 2))('decodes v%i (one member)', async (version) => {
    const body = await decodeKafkajs(ApiKey.LeaveGroup, 'leaveGroup', version, { groupId: 'translate', memberId: 'member-1' });
    expect(body).toEqual({ groupId: 'translate', memberId: 'member-1', members: [] });
  });
  it('decodes v3 (a batch of members)', async () => {
    const body = await decodeKafkajs(ApiKey.LeaveGroup, 'leaveGroup', 3, {
      groupId: 'translate',
      members: [{ memberId: 'member-1' }, { memberId: 'member-2', groupInstanceId: 'instance-2' }],
    });
    expect(body).toEqual({
      groupId: 'translate',
      memberId: '',
      members: [
        { memberId: 'member-1', groupInstanceId: null },
        { memberId: 'member-2', groupInstanceId: 'instance-2' },
      ],
    });
  });
});

describe('OffsetCommit request', () => {
  it.each(range(0, 5))('decodes v%i', async (version) => {
    const body = await decodeKafkajs(ApiKey.OffsetCommit, 'offsetCommit', version, {
      groupId: 'translate',
      groupGenerationId: 4,
      memberId: 'member-1',
      retentionTime: -1,
      topics: [{ topic: 'orders', partitions: [{ partition: 2, offset: '100', timestamp: 1_700_000_000_000, metadata: null }] }],
    });
    expect(body).toMatchObject({
      groupId: 'translate',
      generationId: version >= 1 ? 4 : -1,
      memberId: version >= 1 ? 'member-1' : '',
      retentionTimeMs: -1n,
      groupInstanceId: null,
    });
    expect(body.topics).toEqual([
      {
        name: 'orders',
        partitions: [
          {
            partitionIndex: 2,
            committedOffset: 100n,
            committedLeaderEpoch: -1,
            commitTimestamp: version === 1 ? 1_700_000_000_000n : -1n,
            committedMetadata: null,
          },
        ],
      },
    ]);
  });
});

describe('OffsetFetch request', () => {
  it.each(range(1, 4))('decodes v%i', async (version) => {
    const body = await decodeKafkajs(ApiKey.OffsetFetch, 'offsetFetch', version, {
      groupId: 'translate',
      topics: [{ topic: 'orders', partitions: [{ partition: 0 }, { partition: 1 }] }],
    });
    expect(body).toEqual({
      groupId: 'translate',
      topics: [{ name: 'orders', partitionIndexes: [0, 1] }],
      groups: [],
      requireStable: false,
    });
  });
});

describe('OffsetFetch request for all partitions', () => {
  it.each([3, 4])('decodes null topics at v%i (kafkajs writes an empty list as null)', async (version) => {
    const body = await decodeKafkajs(ApiKey.OffsetFetch, 'offsetFetch', version, { groupId: 'translate', topics: [] });
    expect(body.topics).toBeNull();
  });
});

describe('DescribeGroups request', () => {
  it.each(range(0, 2))('decodes v%i', async (version) => {
    const body = await decodeKafkajs(ApiKey.DescribeGroups, 'describeGroups', version, { groupIds: ['translate', 'reconcile'] });
    expect(body).toEqual({ groups: ['translate', 'reconcile'], includeAuthorizedOperations: false });
  });
});

describe('ListGroups request', () => {
  it.each(range(0, 2))('decodes the empty v%i body', async (version) => {
    const body = await decodeKafkajs(ApiKey.ListGroups, 'listGroups', version, undefined);
    expect(body).toEqual({ states: [] });
  });
});

describe('SaslHandshake and SaslAuthenticate requests', () => {
  it.each([0, 1])('decodes SaslHandshake v%i', async (version) => {
    const body = await decodeKafkajs(ApiKey.SaslHandshake, 'saslHandshake', version, { mechanism: 'PLAIN' });
    expect(body).toEqual({ mechanism: 'PLAIN' });
  });
  it.each([0, 1])('decodes SaslAuthenticate v%i', async (version) => {
    // kafkajs's SASL mechanisms hand the request already length-prefixed bytes (Encoder.writeBytes).
    const plain = Buffer.from('\0user\0secret');
    const lengthPrefixed = Buffer.concat([Buffer.from([0, 0, 0, plain.length]), plain]);
    const body = await decodeKafkajs(ApiKey.SaslAuthenticate, 'saslAuthenticate', version, { authBytes: lengthPrefixed });
    expect(body).toEqual({ authBytes: plain });
  });
});

describe('CreateTopics request', () => {
  it.each(range(0, 3))('decodes v%i', async (version) => {
    const body = await decodeKafkajs(ApiKey.CreateTopics, 'createTopics', version, {
      topics: [
        {
          topic: 'orders',
          numPartitions: 3,
          replicationFactor: 1,
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        },
        { topic: 'manual', replicaAssignment: [{ partition: 0, replicas: [0] }] },
      ],
      validateOnly: true,
      timeout: 5000,
    });
    expect(body).toEqual({
      topics: [
        { name: 'orders', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [{ name: 'cleanup.policy', value: 'compact' }] },
        { name: 'manual', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [0] }], configs: [] },
      ],
      timeoutMs: 5000,
      validateOnly: version >= 1,
    });
  });
});

describe('DeleteTopics request', () => {
  it.each([0, 1])('decodes v%i', async (version) => {
    const body = await decodeKafkajs(ApiKey.DeleteTopics, 'deleteTopics', version, { topics: ['orders'], timeout: 2000 });
    expect(body).toEqual({ topicNames: ['orders'], timeoutMs: 2000 });
  });
});

describe('CreatePartitions request', () => {
  it.each([0, 1])('decodes v%i', async (version) => {
    const body = await decodeKafkajs(ApiKey.CreatePartitions, 'createPartitions', version, {
      topicPartitions: [{ topic: 'orders', count: 6 }, { topic: 'manual', count: 2, assignments: [[0]] }],
      validateOnly: false,
      timeout: 5000,
    });
    expect(body).toEqual({
      topics: [
        // kafkajs writes an empty nullable array as null (-1).
        { name: 'orders', count: 6, assignments: null },
        { name: 'manual', count: 2, assignments: [{ brokerIds: [0] }] },
      ],
      timeoutMs: 5000,
      validateOnly: false,
    });
  });
});

describe('InitProducerId request', () => {
  it.each([0, 1])('decodes v%i for an idempotent producer (null transactional id)', async (version) => {
    const body = await decodeKafkajs(ApiKey.InitProducerId, 'initProducerId', version, { transactionalId: null, transactionTimeout: 30000 });
    expect(body).toEqual({ transactionalId: null, transactionTimeoutMs: 30000 });
  });
});

describe('DeleteGroups request', () => {
  it.each([0, 1])('decodes v%i', async (version) => {
    const body = await decodeKafkajs(ApiKey.DeleteGroups, 'deleteGroups', version, ['translate', 'old']);
    expect(body).toEqual({ groupsNames: ['translate', 'old'] });
  });
});

describe('DescribeConfigs request', () => {
  it.each(range(0, 2))('decodes v%i', async (version) => {
    const body = await decodeKafkajs(ApiKey.DescribeConfigs, 'describeConfigs', version, {
      // kafkajs writes an empty configNames list as null, meaning "all configs".
      resources: [{ type: 2, name: 'orders', configNames: ['retention.ms'] }, { type: 4, name: '0', configNames: [] }],
      includeSynonyms: true,
    });
    expect(body).toEqual({
      resources: [
        { resourceType: 2, resourceName: 'orders', configurationKeys: ['retention.ms'] },
        { resourceType: 4, resourceName: '0', configurationKeys: null },
      ],
      includeSynoyms: version >= 1,
    });
  });
});

describe('DeleteRecords request', () => {
  it.each([0, 1])('decodes v%i', async (version) => {
    const body = await decodeKafkajs(ApiKey.DeleteRecords, 'deleteRecords', version, {
      topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: '17' }] }],
      timeout: 3000,
    });
    expect(body).toEqual({ topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, offset: 17n }] }], timeoutMs: 3000 });
  });
});

describe('record batches inside a Produce request', () => {
  it('keeps the batch bytes intact (kafkajs record encoder)', async () => {
    expect(kafkajsRecord).toBeTypeOf('function');
    const body = await decodeKafkajs(ApiKey.Produce, 'produce', 7, {
      acks: 1,
      timeout: 1000,
      topicData: [{ topic: 'orders', partitions: [{ partition: 0, firstSequence: 0, messages: [{ key: 'a', value: 'b' }] }] }],
    });
    const records = body.topicData[0].partitionData[0].records!;
    expect(readBatchHeader(records).batchLength + 12).toBe(records.length);
  });
});
