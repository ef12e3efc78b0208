import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConnector, uniqueName } from '../../support/connector.js';
import { startTestKafkaStack, type TestKafkaStack } from '../../support/kafka-stack.js';
import { startTestPipeline, type TestPipeline } from '../../support/pipeline.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { until } from '../../support/until.js';

/**
 * A `where` over a TOASTed column. PostgreSQL leaves an unchanged TOAST value out of an update
 * (REPLICA IDENTITY DEFAULT), so the filter cannot be evaluated on the event: the row keeps the
 * membership it had, which is exact because the column did not change.
 */
describe('translate: a where over a column PostgreSQL did not send (unchanged TOAST)', () => {
  let legacy: TestDatabase;
  let target: TestDatabase;
  let stack: TestKafkaStack;
  let pipeline: TestPipeline;

  // STORAGE EXTERNAL: stored out of line and uncompressed, so an update that leaves it alone does not send it.
  const body = (prefix: string, id: number) => `'${prefix}:' || repeat(md5('${id}'), 200)`;

  beforeAll(async () => {
    legacy = await createTestDatabase('translate_toast_legacy');
    target = await createTestDatabase('translate_toast_target');
    stack = await startTestKafkaStack();
    await legacy.sql(`CREATE SCHEMA legacy;
      CREATE TABLE legacy.documents (id int PRIMARY KEY, title text NOT NULL, body text NOT NULL, hidden boolean NOT NULL DEFAULT false);
      ALTER TABLE legacy.documents ALTER COLUMN body SET STORAGE EXTERNAL;
      INSERT INTO legacy.documents VALUES (1, 'one', ${body('published', 1)}), (2, 'two', ${body('draft', 2)}), (3, 'three', ${body('published', 3)});`);
    await target.sql(`CREATE SCHEMA app;
      CREATE TABLE app.article (id int PRIMARY KEY, title text NOT NULL, teaser text NOT NULL);
      CREATE TABLE app.listing (id int PRIMARY KEY, title text NOT NULL, retired boolean NOT NULL DEFAULT false);
      CREATE TABLE app.catalog (id int PRIMARY KEY, size int NOT NULL, retired boolean NOT NULL DEFAULT false);`);
    const connector = testConnector({
      name: uniqueName('ttoast'),
      sourceUrl: legacy.url,
      targetUrl: target.url,
      tables: ['legacy.documents'],
      brokers: stack.brokers,
      registryUrl: stack.registryUrl,
      extra: {
        mappings: {
          'legacy.documents': [
            { to: 'app.article', columns: { title: 'title', teaser: "split_part(body, ':', 1) || ':' || left(split_part(body, ':', 2), 6)" }, where: "body LIKE 'published:%'" },
            { to: 'app.listing', columns: { title: 'upper(title)' }, where: "body LIKE 'published:%'", onDelete: { set: { retired: 'true' } } },
            { to: 'app.catalog', columns: { size: 'length(body)' }, where: 'NOT hidden', onDelete: { set: { retired: 'true' } } },
          ],
        },
      },
    });
    pipeline = await startTestPipeline(connector);
  });

  afterAll(async () => {
    await pipeline?.stop();
    await stack?.stop();
  });

  /** What the mappings make of legacy, computed here with SQL of the test's own. */
  async function expected() {
    const published = await legacy.sql<{ id: number; title: string; teaser: string }>(
      `SELECT id, title, split_part(body, ':', 1) || ':' || left(split_part(body, ':', 2), 6) AS teaser FROM legacy.documents WHERE body LIKE 'published:%' ORDER BY id`,
    );
    return { articles: published, listed: published.map((row) => ({ id: row.id, title: row.title.toUpperCase() })) };
  }
  async function actual() {
    return {
      articles: await target.sql('SELECT id, title, teaser FROM app.article ORDER BY id'),
      listed: await target.sql('SELECT id, title FROM app.listing WHERE NOT retired ORDER BY id'),
    };
  }
  const converged = (describe: string) => {
    let seen = '';
    return until(
      async () => {
        const [want, got] = [JSON.stringify(await expected()), JSON.stringify(await actual())];
        seen = `expected ${want}, target has ${got}`;
        return want === got;
      },
      { describe: () => `${describe} (last check: ${seen})`, timeoutMs: 60_000 },
    );
  };

  it('keeps a published row when an update leaves its body out, and leaves an unpublished one out', async () => {
    await converged('the snapshot: documents 1 and 3 published');
    await legacy.sql(`UPDATE legacy.documents SET title = title || ' (edited)'`);
    await until(async () => (await target.sql<{ title: string }>('SELECT title FROM app.listing WHERE id = 1'))[0]?.title === 'ONE (EDITED)', { describe: 'the edit of document 1 in app.listing' });
    await converged('the edits, with the published documents still published and the draft still absent');
    expect(await target.sql('SELECT id, retired FROM app.listing ORDER BY id')).toEqual([{ id: 1, retired: false }, { id: 3, retired: false }]);
  });

  it('follows a body that changes, in both directions', async () => {
    await legacy.sql(`UPDATE legacy.documents SET body = ${body('draft', 1)} WHERE id = 1; UPDATE legacy.documents SET body = ${body('published', 2)} WHERE id = 2`);
    await converged('document 1 unpublished and document 2 published');
    expect(await target.sql('SELECT id, retired FROM app.listing ORDER BY id')).toEqual([{ id: 1, retired: true }, { id: 2, retired: false }, { id: 3, retired: false }]);
    await legacy.sql(`UPDATE legacy.documents SET title = 'renamed' WHERE id IN (1, 2)`);
    await converged('the renames, document 1 staying unpublished');
    expect(await target.sql('SELECT id, title, retired FROM app.listing WHERE id = 1')).toEqual([{ id: 1, title: 'ONE (EDITED)', retired: true }]);
  });

  it('brings a soft-deleted row back when it matches where again in an update that leaves its body out', async () => {
    const catalog = () => target.sql('SELECT id, size, retired FROM app.catalog ORDER BY id');
    const sizes = await legacy.sql<{ id: number; size: number }>('SELECT id, length(body) AS size FROM legacy.documents ORDER BY id');
    await until(async () => (await catalog()).length === 3, { describe: 'the three documents in app.catalog' });
    await legacy.sql('UPDATE legacy.documents SET hidden = true WHERE id = 3');
    await until(async () => (await target.sql<{ retired: boolean }>('SELECT retired FROM app.catalog WHERE id = 3'))[0]?.retired === true, { describe: 'document 3 retired from app.catalog once hidden' });
    await legacy.sql('UPDATE legacy.documents SET hidden = false WHERE id = 3');
    await until(async () => (await target.sql<{ retired: boolean }>('SELECT retired FROM app.catalog WHERE id = 3'))[0]?.retired === false, { describe: 'document 3 live again in app.catalog once shown' });
    expect(await catalog()).toEqual(sizes.map((row) => ({ ...row, retired: false })));
  });
});
