import { beforeAll, describe, expect, it } from 'vitest';
import { checkSource } from '../../../src/doctor/checks.js';
import { testConnector } from '../../support/connector.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';

describe('tandem doctor: partitioned tables', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('doctor_partitioned');
    await db.sql(`CREATE SCHEMA legacy;
      CREATE TABLE legacy.payment (id bigint, paid_on date, PRIMARY KEY (id, paid_on)) PARTITION BY RANGE (paid_on);
      CREATE TABLE legacy.payment_p2022_01 PARTITION OF legacy.payment FOR VALUES FROM ('2022-01-01') TO ('2022-02-01');
      CREATE TABLE legacy.plain (id int PRIMARY KEY);`);
  });

  // Only the source is checked: no broker or registry is contacted.
  const connectorFor = (tables: string[], publication: string) =>
    testConnector({ name: 'doctorparts', sourceUrl: db.url, tables, brokers: ['127.0.0.1:1'], registryUrl: 'http://127.0.0.1:1', extra: { source: { url: db.url, schema: 'legacy', tables, publication } } });
  const partitionCheck = async (tables: string[], publication: string) =>
    (await checkSource(connectorFor(tables, publication))).find((result) => result.check === `publication ${publication} partitioned tables`);

  it('reports a partitioned table in a publication without publish_via_partition_root, with the ALTER PUBLICATION that fixes it', async () => {
    await db.sql('CREATE PUBLICATION by_partition FOR TABLE legacy.payment, legacy.plain');
    expect(await partitionCheck(['legacy.payment', 'legacy.plain'], 'by_partition')).toEqual({
      check: 'publication by_partition partitioned tables',
      status: 'fail',
      detail: 'publication by_partition lacks publish_via_partition_root, so changes of the partitioned legacy.payment arrive under partition names that have no topic',
      fix: 'ALTER PUBLICATION "by_partition" SET (publish_via_partition_root = true);',
    });
  });

  it('passes once the option is set, and when capture will create the publication', async () => {
    await db.sql('ALTER PUBLICATION by_partition SET (publish_via_partition_root = true)');
    expect(await partitionCheck(['legacy.payment'], 'by_partition')).toMatchObject({ status: 'ok' });
    expect(await partitionCheck(['legacy.payment'], 'not_yet_created')).toMatchObject({ status: 'ok', detail: expect.stringContaining('will create the publication with publish_via_partition_root') });
  });

  it('adds no check for a connector without partitioned tables', async () => {
    expect(await partitionCheck(['legacy.plain'], 'by_partition')).toBeUndefined();
  });
});
