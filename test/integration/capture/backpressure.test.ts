import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLsn } from '../../../src/pg/lsn.js';
import { uniqueName, writeTestConnectorFile } from '../../support/connector.js';
import { startKafkaFaultProxy, type KafkaFaultProxy } from '../../support/kafka-proxy.js';
import { startTestKafkaStack, type TestKafkaStack } from '../../support/kafka-stack.js';
import { spawnTandem } from '../../support/process.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { until } from '../../support/until.js';

const ROWS = 200_000;
const PAYLOAD_BYTES = 400;
/** The worker's JavaScript heap limit: far less than the transaction's events would need if buffered. */
const HEAP_LIMIT_MIB = 96;

describe('capture: backpressure', () => {
  let db: TestDatabase;
  let stack: TestKafkaStack;
  let proxy: KafkaFaultProxy;

  beforeAll(async () => {
    db = await createTestDatabase('capture_backpressure');
    // A slow broker (the fault proxy holds each Produce answer back), so events arrive from the WAL
    // far faster than Kafka acknowledges them.
    stack = await startTestKafkaStack();
    proxy = await startKafkaFaultProxy(stack.brokers, { delayResponseMs: (apiKey) => (apiKey === 0 ? 40 : 0) });
    await db.sql(`CREATE SCHEMA legacy; CREATE TABLE legacy.bulk (id int PRIMARY KEY, payload text NOT NULL)`);
  });

  afterAll(async () => {
    await proxy?.stop();
    await stack?.stop();
  });

  it(`keeps memory bounded while a ${ROWS.toLocaleString('en-US')}-row transaction goes through a slow broker`, async () => {
    const name = uniqueName('bulk');
    const config = writeTestConnectorFile({ name, sourceUrl: db.url, tables: ['legacy.bulk'], brokers: proxy.brokers, registryUrl: stack.registryUrl });
    const capture = spawnTandem(['capture', '--config', config, '--metrics-port', '0'], { NODE_OPTIONS: `--max-old-space-size=${HEAP_LIMIT_MIB}` });
    await capture.waitForOutput(/streaming changes/);
    // One transaction of ~90 MB of row data: all of it arrives at commit.
    await db.sql(`INSERT INTO legacy.bulk SELECT g, repeat(md5(g::text), ${Math.round(PAYLOAD_BYTES / 32)}) FROM generate_series(1, ${ROWS}) g`);
    const end = parseLsn((await db.sql<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'))[0]!.lsn);
    const confirmed = async () => parseLsn((await db.sql<{ lsn: string }>(`SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1`, [`tandem_${name}`]))[0]!.lsn);
    // A worker that ran out of heap exits: stop waiting then, and let the assertions below say why.
    await until(async () => capture.child.exitCode !== null || (await confirmed()) >= end, { describe: `slot tandem_${name} confirmed past the transaction (${end})`, timeoutMs: 110_000, intervalMs: 250 });
    capture.child.kill('SIGTERM');
    const code = await capture.exited;

    // The transaction's events are ~90 MB encoded and several times that as objects: a worker that
    // buffered them would run out of its heap. With backpressure it holds at most its 16 MiB send buffer.
    expect(capture.output()).not.toContain('heap out of memory');
    expect(await confirmed()).toBeGreaterThanOrEqual(end);
    expect(code).toBe(0);
  });
});
