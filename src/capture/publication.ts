import type pg from 'pg';
import type { Connector } from '../config/index.js';
import { TandemError } from '../errors.js';
import { SIGNAL_TABLE } from '../pg/bookkeeping/source.js';
import { publicationTables } from '../pg/catalog.js';
import { quoteIdent, quoteQualified } from '../pg/identifiers.js';
import { publishesGeneratedColumns } from '../schema/catalog-reader.js';

export interface PublicationSetup {
  created: boolean;
  /** Tables added to the publication. */
  added: string[];
  /** publish_via_partition_root was switched on. */
  rootedPartitions: boolean;
  /** The publication sends generated columns (PostgreSQL 18 publish_generated_columns). */
  generatedColumns: boolean;
}

/** The statement that makes a publication send partitions' changes as changes of their partitioned table. */
export function publishViaRootStatement(publication: string): string {
  return `ALTER PUBLICATION ${quoteIdent(publication)} SET (publish_via_partition_root = true)`;
}

/** The configured tables that are partitioned (PARTITION BY), in configured order. */
export async function partitionedTables(client: pg.Client, tables: readonly string[]): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'p' AND n.nspname || '.' || c.relname = ANY($1)`,
    [tables],
  );
  const partitioned = new Set(rows.map((row) => row.name));
  return tables.filter((table) => partitioned.has(table));
}

/** pg_publication.pubviaroot; null when the publication does not exist. */
export async function publishesViaRoot(client: pg.Client, publication: string): Promise<boolean | null> {
  const { rows } = await client.query<{ pubviaroot: boolean }>('SELECT pubviaroot FROM pg_publication WHERE pubname = $1', [publication]);
  return rows[0]?.pubviaroot ?? null;
}

/**
 * Creates the publication for the configured tables and the signal table, or verifies an existing
 * one. A publication tandem created is extended when the connector gains tables; a user's own
 * publication missing a table is an error that names it.
 *
 * Partitioned tables: without publish_via_partition_root, pgoutput sends a partition's changes
 * under the partition's name, whose topic does not exist. tandem creates its publication with the
 * option and switches it on in a publication it manages; a user's publication without it is refused
 * with the ALTER PUBLICATION that fixes it (tandem does not change a publication others may use).
 */
export async function ensurePublication(client: pg.Client, connector: Connector, managed: boolean): Promise<PublicationSetup> {
  const { publication, tables } = connector.source;
  const wanted = [...tables, SIGNAL_TABLE];
  const viaRoot = await publishesViaRoot(client, publication);
  if (viaRoot === null) {
    await client.query(`CREATE PUBLICATION ${quoteIdent(publication)} FOR TABLE ${wanted.map(quoteQualified).join(', ')} WITH (publish_via_partition_root = true)`);
    return { created: true, added: wanted, rootedPartitions: false, generatedColumns: await publishesGeneratedColumns(client, publication) };
  }
  const rootedPartitions = !viaRoot && (await rootPartitions(client, connector, managed));
  // Read after the option is set: without it pg_publication_tables lists partitions instead of their root.
  const published = (await publicationTables(client, publication)) ?? [];
  const missing = wanted.filter((table) => !published.includes(table));
  if (missing.length > 0) {
    const alter = `ALTER PUBLICATION ${quoteIdent(publication)} ADD TABLE ${missing.map(quoteQualified).join(', ')}`;
    const onlySignal = missing.length === 1 && missing[0] === SIGNAL_TABLE;
    if (!managed && !onlySignal) {
      throw new TandemError(`publication ${publication} does not publish ${missing.join(', ')}`, { fix: `${alter};` });
    }
    await alterAsOwner(client, alter, `publication ${publication} does not publish ${missing.join(', ')} and tandem could not add it`);
  }
  return { created: false, added: missing, rootedPartitions, generatedColumns: await publishesGeneratedColumns(client, publication) };
}

/** Switches publish_via_partition_root on when a configured table is partitioned; true if it did. */
async function rootPartitions(client: pg.Client, connector: Connector, managed: boolean): Promise<boolean> {
  const { publication, tables } = connector.source;
  const partitioned = await partitionedTables(client, tables);
  if (partitioned.length === 0) return false;
  const alter = publishViaRootStatement(publication);
  if (!managed) {
    throw new TandemError(
      `publication ${publication} publishes the partitioned table${partitioned.length > 1 ? 's' : ''} ${partitioned.join(', ')} without publish_via_partition_root, so changes would arrive under partition names that have no topic`,
      { fix: `${alter};` },
    );
  }
  await alterAsOwner(client, alter, `publication ${publication} lacks publish_via_partition_root for ${partitioned.join(', ')} and tandem could not set it`);
  return true;
}

async function alterAsOwner(client: pg.Client, statement: string, failure: string): Promise<void> {
  try {
    await client.query(statement);
  } catch (error) {
    throw new TandemError(`${failure}: ${(error as Error).message}`, { fix: `as the publication's owner: ${statement};` });
  }
}
