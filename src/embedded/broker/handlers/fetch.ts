import type { BrokerContext, Handler } from '../context.js';
import { ErrorCode, type FetchRequest, type FetchResponse, type FetchResponseFetchablePartitionResponse } from '../protocol/index.js';

/**
 * Returns stored batches as raw bytes. Long-polls: when fewer than `minBytes` are available the
 * answer waits until appends bring enough or `maxWait` passes. Limits follow Kafka: the request's
 * `maxBytes` across partitions and each partition's own `maxBytes`, except that the first batch
 * found is returned whole even when it is bigger (so a large batch never stalls a consumer).
 */
export const fetch: Handler<1> = (request, { broker }) => {
  if (request.sessionId !== 0) {
    return { throttleTimeMs: 0, errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: [] };
  }
  const first = readAll(request, broker);
  if (first.bytes >= request.minBytes || first.failed || request.maxWait <= 0) return first.response;
  return waitForData(request, broker, first.bytes);
};

interface FetchRead {
  response: FetchResponse;
  bytes: number;
  failed: boolean;
}

function readAll(request: FetchRequest, broker: BrokerContext): FetchRead {
  let budget = request.maxBytes;
  let bytes = 0;
  let failed = false;
  const responses = request.topics.map((topic) => ({
    topic: topic.name,
    partitionResponses: topic.fetchPartitions.map((wanted): FetchResponseFetchablePartitionResponse => {
      const partition = broker.topics.partition(topic.name, wanted.partitionIndex);
      if (!partition) {
        failed = true;
        return answer(wanted.partitionIndex, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1, -1, null);
      }
      const { log } = partition;
      const offset = Number(wanted.fetchOffset);
      if (offset < log.logStartOffset || offset > log.logEndOffset) {
        failed = true;
        return answer(wanted.partitionIndex, ErrorCode.OFFSET_OUT_OF_RANGE, log.logEndOffset, log.logStartOffset, null);
      }
      let records: Buffer | null = null;
      if (budget > 0 || bytes === 0) {
        records = log.read(offset, Math.max(1, Math.min(wanted.maxBytes, budget)));
        // Only the very first batch of the response may exceed the limits.
        if (records && bytes > 0 && records.length > budget) records = null;
      }
      if (records) {
        bytes += records.length;
        budget -= records.length;
      }
      return answer(wanted.partitionIndex, ErrorCode.NONE, log.logEndOffset, log.logStartOffset, records);
    }),
  }));
  return { response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses }, bytes, failed };
}

/** Parks the fetch until appends to its partitions add up to minBytes, maxWait passes, or the broker stops. */
function waitForData(request: FetchRequest, broker: BrokerContext, available: number): Promise<FetchResponse> {
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const stop of unsubscribe) stop();
      broker.stopping.removeEventListener('abort', finish);
      resolve(readAll(request, broker).response);
    };
    const unsubscribe = request.topics.flatMap((topic) =>
      topic.fetchPartitions.flatMap((wanted) => {
        const partition = broker.topics.partition(topic.name, wanted.partitionIndex);
        if (!partition) return [];
        return [
          partition.onAppend((bytes) => {
            available += bytes;
            // Answer after the producer's call returns; appends in the same tick share one read.
            if (available >= request.minBytes) setImmediate(finish);
          }),
        ];
      }),
    );
    const timer = setTimeout(finish, request.maxWait);
    broker.stopping.addEventListener('abort', finish);
  });
}

const NO_RECORDS = Buffer.alloc(0);

function answer(
  partition: number,
  errorCode: number,
  logEndOffset: number,
  logStartOffset: number,
  recordSet: Buffer | null,
): FetchResponseFetchablePartitionResponse {
  return {
    partition,
    errorCode,
    highWatermark: BigInt(logEndOffset),
    lastStableOffset: BigInt(logEndOffset),
    logStartOffset: BigInt(logStartOffset),
    abortedTransactions: [],
    preferredReadReplica: -1,
    // Kafka sends an empty record set, never null: librdkafka fails to parse a null one.
    recordSet: recordSet ?? NO_RECORDS,
  };
}
