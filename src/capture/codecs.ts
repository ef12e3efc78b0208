import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import type { Pgoutput } from 'pg-logical-replication';
import type { Type } from 'avsc';
import type { Connector } from '../config/index.js';
import { TandemError } from '../errors.js';
import { topicFor } from '../kafka/topics.js';
import type { Logger } from '../observability/logger.js';
import { quoteIdent, quoteQualified, splitQualified } from '../pg/identifiers.js';
import { createAvroType } from '../schema/avro-type.js';
import { readColumnType, readTableDefinition } from '../schema/catalog-reader.js';
import { deriveSchemas } from '../schema/derive.js';
import { toAvroKey, toAvroRow, type AvroRow } from '../schema/avro-values.js';
import type { Envelope } from '../schema/envelope.js';
import type { RegistryClient } from '../schema/registry-client.js';
import type { ColumnDefinition, TableDefinition } from '../schema/table-definition.js';
import { HEADER_BYTES, writeHeader } from '../schema/wire-format.js';
import { compatibleAlternatives, describeTableChange, schemaChangeFix } from './schema-change.js';
import type { ChangeEvent } from './events.js';
import type { SnapshotTable } from './snapshot.js';

/** Everything needed to turn one table's changes into Confluent-framed Avro messages. */
export interface TableCodec {
  /** `schema.table` */
  table: string;
  schema: string;
  tableName: string;
  topic: string;
  /** Partitions of the topic (a truncate goes to each). */
  partitions: number;
  /** Events carry the key columns as key; false for a table without primary key or replica identity index. */
  hasKey: boolean;
  definition: TableDefinition;
  snapshotTable: SnapshotTable;
  /** Key and value of a change's Kafka message, in the Confluent wire format. */
  encode(change: ChangeEvent): { key: Buffer | null; value: Buffer };
  describeKey(change: ChangeEvent): string;
}

const NO_COLUMNS: readonly string[] = [];

/** Partitions of a topic capture creates (existing topics keep theirs). */
const TOPIC_PARTITIONS = 3;

// Encoding goes through one growing scratch buffer, so each message costs one exact-size copy.
let scratch = Buffer.allocUnsafe(64 * 1024);

/** Confluent wire format (schema/wire-format.ts), with the payload encoded in place after the header. */
function frame(schemaId: number, type: Type, value: unknown): Buffer {
  for (;;) {
    const end = type.encode(value, scratch, HEADER_BYTES);
    if (end > 0) {
      writeHeader(scratch, schemaId);
      const framed = Buffer.allocUnsafe(end);
      scratch.copy(framed, 0, 0, end);
      return framed;
    }
    scratch = Buffer.allocUnsafe(scratch.length * 2);
  }
}

/**
 * Table codecs by relation: derives each table's key and value schemas from its definition,
 * registers them (checking compatibility first, so a breaking change stops capture with reasons),
 * and rebuilds them when a Relation message shows that the table changed.
 */
export class TableCodecs {
  private readonly byTable = new Map<string, TableCodec>();
  private readonly byRelation = new Map<number, TableCodec>();
  private readonly partitionCounts = new Map<string, number>();

  constructor(
    private readonly connector: Connector,
    private readonly catalog: pg.Client,
    private readonly registry: RegistryClient,
    private readonly logger: Logger,
    /** The publication sends generated columns (PostgreSQL 18's publish_generated_columns): the snapshot reads them too. */
    private readonly generatedColumns: boolean,
  ) {}

  /**
   * Creates the tables' topics when missing (the connector's own topics; never auto-created by
   * produce) and learns each topic's partition count.
   */
  async ensureTopics(kafka: Kafka): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topics = this.connector.source.tables.map((table) => topicFor(this.connector.kafka.topicPrefix, table));
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((topic) => !existing.has(topic));
      if (missing.length > 0) {
        await admin.createTopics({ waitForLeaders: true, topics: missing.map((topic) => ({ topic, numPartitions: TOPIC_PARTITIONS })) });
        this.logger.info({ topics: missing }, `created topics ${missing.join(', ')}`);
      }
      for (const topic of (await admin.fetchTopicMetadata({ topics })).topics) this.partitionCounts.set(topic.name, topic.partitions.length);
    } finally {
      await admin.disconnect();
    }
  }

  /** The codec of a table as the catalog defines it now (for the snapshot). */
  async forSnapshot(table: string): Promise<TableCodec> {
    const existing = this.byTable.get(table);
    if (existing) return existing;
    const { schema, table: name } = splitQualified(table);
    return this.install(await readTableDefinition(this.catalog, schema, name, { generatedColumns: this.generatedColumns }));
  }

  forRelation(relationOid: number): TableCodec {
    const codec = this.byRelation.get(relationOid);
    if (!codec) throw new TandemError(`received a change for relation ${relationOid} before its Relation message`, { fix: 'restart capture; this indicates a protocol error' });
    return codec;
  }

  /**
   * pgoutput sends a Relation message before the first change of a table in each session and again
   * after its definition changed. Columns, their types and the key come from the message (what the
   * WAL holds, even if the table changed since); nullability from the catalog, and a column dropped
   * since is nullable. Under REPLICA IDENTITY FULL the message marks every column as key: the key is
   * then the catalog's (the primary key, or none), the same as the snapshot's.
   */
  async onRelation(relation: Pgoutput.MessageRelation): Promise<void> {
    const table = `${relation.schema}.${relation.name}`;
    const root = this.connector.source.tables.includes(table) ? null : await this.configuredRoot(relation);
    if (root) {
      // A partition's changes written to the WAL before publish_via_partition_root was set: they are the root's.
      this.byRelation.set(relation.relationOid, await this.forSnapshot(root));
      return;
    }
    const catalogDefinition = await readTableDefinition(this.catalog, relation.schema, relation.name, { generatedColumns: this.generatedColumns });
    const columns: ColumnDefinition[] = [];
    for (const column of relation.columns) {
      const { type, declaredType, notNullDomain } = await readColumnType(this.catalog, column.typeOid, column.typeMod);
      const known = catalogDefinition.columns.find((candidate) => candidate.name === column.name);
      columns.push({
        name: column.name,
        type,
        declaredType,
        nullable: known?.declaredType === declaredType ? known.nullable : !notNullDomain,
      });
    }
    const keyFromMessage = relation.replicaIdentity !== 'full' && relation.keyColumns.length > 0;
    const definition: TableDefinition = {
      schema: relation.schema,
      table: relation.name,
      columns,
      keyColumns: keyFromMessage ? relation.keyColumns : catalogDefinition.keyColumns,
    };
    const current = this.byTable.get(table);
    const codec = current && sameShape(current.definition, definition) ? current : await this.install(definition, current?.definition);
    this.byRelation.set(relation.relationOid, codec);
  }

  /** The configured partitioned table `relation` is a partition of, if any. */
  private async configuredRoot(relation: Pgoutput.MessageRelation): Promise<string | null> {
    const { rows } = await this.catalog.query<{ root: string }>(
      `SELECT n.nspname || '.' || c.relname AS root FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = pg_partition_root($1::oid::regclass)`,
      [relation.relationOid],
    );
    const root = rows[0]?.root;
    return root !== undefined && this.connector.source.tables.includes(root) ? root : null;
  }

  private async install(definition: TableDefinition, previous?: TableDefinition): Promise<TableCodec> {
    const table = `${definition.schema}.${definition.table}`;
    const derived = deriveSchemas(definition, { topicPrefix: this.connector.kafka.topicPrefix });
    const partitions = this.partitionCounts.get(derived.topic);
    if (partitions === undefined) {
      throw new TandemError(`publication ${this.connector.source.publication} sends changes of ${table}, which is not in source.tables, so it has no topic`, {
        fix: `add ${table} to source.tables, or drop it from the publication: ALTER PUBLICATION ${quoteIdent(this.connector.source.publication)} DROP TABLE ${quoteQualified(table)};`,
      });
    }
    for (const warning of derived.warnings) this.logger.warn({ table }, warning);
    const changes = previous ? describeTableChange(previous, definition) : [];
    if (previous) this.logger.info({ table, changes }, `table ${table} changed: ${changes.join('; ') || 'column details'}; registering a new schema version`);
    const register = async (subject: string, schema: object) => {
      try {
        return await this.registry.register(subject, schema);
      } catch (error) {
        if (error instanceof TandemError && previous) {
          const alternatives = compatibleAlternatives(previous, definition);
          throw new TandemError(`capture stopped before acknowledging the change; ${error.message}\n  what changed in ${table}: ${changes.join('; ') || 'column details'}`, {
            fix: schemaChangeFix(alternatives),
            cause: error,
          });
        }
        throw error;
      }
    };
    const keyId = await register(`${derived.topic}-key`, derived.keySchema);
    const valueId = await register(`${derived.topic}-value`, derived.valueSchema);
    const keyType = createAvroType(derived.keySchema);
    const valueType = createAvroType(derived.valueSchema);
    const hasKey = definition.keyColumns.length > 0;
    const codec: TableCodec = {
      table,
      schema: definition.schema,
      tableName: definition.table,
      topic: derived.topic,
      partitions,
      hasKey,
      definition,
      snapshotTable: {
        name: table,
        columns: definition.columns.map((column) => column.name),
        key: definition.keyColumns.map((name) => ({ name, sqlType: definition.columns.find((column) => column.name === name)!.declaredType })),
      },
      encode(change) {
        const keySource = change.after ?? change.before;
        const key = hasKey && keySource ? frame(keyId, keyType, toAvroKey(definition, keySource)) : null;
        // A delete's old tuple may hold only the key columns: the others read as not sent (null, or the type's empty value).
        const before = change.before ? toAvroRow(definition, change.before) : null;
        const after = change.after ? toAvroRow(definition, change.after) : null;
        const envelope: Envelope<AvroRow['row']> = {
          before: before?.row ?? null,
          after: after?.row ?? null,
          op: change.op,
          source: change.source,
          tsMs: Date.now(),
          unchangedToastColumns: after?.unchangedToastColumns ?? NO_COLUMNS,
        };
        return { key, value: frame(valueId, valueType, envelope) };
      },
      describeKey(change) {
        const row = change.after ?? change.before ?? {};
        return JSON.stringify(Object.fromEntries(definition.keyColumns.map((name) => [name, row[name]])));
      },
    };
    this.byTable.set(table, codec);
    return codec;
  }
}

function sameShape(a: TableDefinition, b: TableDefinition): boolean {
  return JSON.stringify(a.columns) === JSON.stringify(b.columns) && a.keyColumns.join() === b.keyColumns.join();
}
