/**
 * Applying a partition's batch in one target transaction:
 *
 *   lock the partition's bookkeeping row (fences a worker that lost the partition in a rebalance)
 *   → drop what was applied before (offset and source position) → the truncate barrier
 *   → park changes of keys already parked → collapse per key → COPY into the staging table
 *   → per target, parents first: INSERT … SELECT … ON CONFLICT; children first: DELETE / soft-delete UPDATE
 *   → bisect on a failing change: parked (foreign key) or dead letter (poison), the rest applies
 *   → store offsets, position and the batch's log row → COMMIT.
 *
 * Truncate barrier: capture writes a truncate to every partition of the topic with one source
 * position P. The first partition (of any worker) to reach it applies it and records P in
 * tandem.translate_topics, under a row lock that every batch of the topic takes in share mode.
 * Every partition drops its changes before P, whether or not it has reached its own copy of the
 * truncate yet, and no partition can have applied a change after P before reaching its copy. So
 * rows written before the TRUNCATE disappear and rows written after it survive, whichever
 * partition or worker they went through.
 *
 * Reconcile's exact cut (reconcile/cut.ts): with a cut open at LSN C, a batch applies only the
 * messages before its first change committed at or after C, stores the offset of that change as
 * the next one and its last applied position, and records in the same transaction that the
 * partition is held at the cut. A truncate at or after C is held like any change (in every
 * partition, since all its copies carry one position), so the barrier never moves past C during a
 * cut. Parked changes were parked before the cut was prepared or by a batch under it, so they
 * committed before C: retrying them during a cut is allowed, and wanted.
 */
import type { KafkaMessage } from 'kafkajs';
import type pg from 'pg';
import type { Connector } from '../config/index.js';
import { TandemError } from '../errors.js';
import type { CutGate, OpenCut } from '../reconcile/cut.js';
import { compileSource, type CompiledSource } from '../mapping/compile.js';
import type { MappingPlan } from '../mapping/plan.js';
import type { TargetShape } from '../mapping/resolve.js';
import type { Logger } from '../observability/logger.js';
import { splitQualified } from '../pg/identifiers.js';
import { readTableDefinition } from '../schema/catalog-reader.js';
import type { TableDefinition } from '../schema/table-definition.js';
import { collapseByKey, type StagedRow } from './collapse.js';
import { copyFrom } from './copy.js';
import type { DeadLetter, DeadLetterSink } from './dead-letters.js';
import { PoisonEvent, readChange, type SourceChange } from './event-reader.js';
import { classifyFailure } from './failures.js';
import { copyField } from './pg-text.js';
import { comparePositions, formatPosition, ZERO_POSITION, type Position } from './position.js';
import type { RowField, SchemaCache } from './schema-cache.js';
import { sourceShapeOf } from './shapes.js';
import type { TranslateMetrics } from './metrics.js';
import { mappingProblemsError, validateSource } from './validate.js';

export interface TranslatorOptions {
  connector: Connector;
  plan: MappingPlan;
  groupId: string;
  schemas: SchemaCache;
  targets: ReadonlyMap<string, TargetShape | undefined>;
  /** The legacy catalog, for staging types; null when the source database cannot be reached. */
  sourceClient: () => Promise<pg.ClientBase | null>;
  deadLetters: DeadLetterSink;
  metrics?: TranslateMetrics;
  logger: Logger;
}

export interface BatchOutcome {
  events: number;
  skipped: number;
  applied: number;
  parked: number;
  deadLettered: number;
  nextOffset: string;
  truncated: boolean;
  /** The batch started after the stored next offset and was not applied: seek back to `nextOffset`. */
  gap?: boolean;
  /**
   * Messages held back at reconcile's cut (from the first change committed at or after the cut's
   * LSN): not applied; the partition is recorded as held and resumes at `nextOffset`.
   */
  held?: number;
}

/** Reconcile's open cut, for a batch: apply only what committed before it, record a hold. */
export interface BatchCut {
  gate: CutGate;
  cut: OpenCut;
}

interface Compiled {
  compiled: CompiledSource;
  /** For js columns: staged value computers, in staging order. */
  js: readonly ((values: Record<string, string | null>) => string | null)[];
}

interface RowFailure {
  row: StagedRow;
  error: string;
  kind: 'parked' | 'poison';
}

const OFFSETS = 'tandem.translate_offsets';

export class Translator {
  private readonly compiled = new Map<string, Compiled>();
  private sourceCatalogReads: Promise<unknown> = Promise.resolve();
  private readonly staged = new WeakMap<pg.ClientBase, Set<string>>();
  private readonly parkedKeys = new Map<string, Set<string>>();
  private readonly deadKeys = new Map<string, Set<string>>();
  private readonly sourceOfTopic = new Map<string, string>();
  private shapeVersion = 0;

  constructor(private readonly options: TranslatorOptions) {
    for (const table of options.connector.source.tables) this.sourceOfTopic.set(`${options.connector.kafka.topicPrefix}.${table}`, table);
  }

  get topics(): string[] {
    return [...this.sourceOfTopic.keys()];
  }

  /** After a rebalance another worker may have parked or dead-lettered keys: reload them lazily. */
  forgetAssignments(): void {
    this.parkedKeys.clear();
    this.deadKeys.clear();
  }

  /** Creates the per-topic rows the batches lock (once, at start). */
  async registerTopics(client: pg.ClientBase): Promise<void> {
    await client.query('INSERT INTO tandem.translate_topics (topic) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING', [this.topics]);
  }

  /** The offsets translate resumes from, per partition (stored with the rows, the truth). */
  async storedOffsets(client: pg.ClientBase, topic: string): Promise<Map<number, string>> {
    const { rows } = await client.query<{ partition: number; next_offset: string }>(`SELECT partition, next_offset::text FROM ${OFFSETS} WHERE group_id = $1 AND topic = $2`, [this.options.groupId, topic]);
    return new Map(rows.map((row) => [row.partition, row.next_offset]));
  }

  /**
   * `acceptGap`: the consumer already sought back to the stored offset and Kafka still starts later
   * (offsets removed by retention or compaction), so the batch is applied from where it starts.
   */
  async applyBatch(client: pg.ClientBase, topic: string, partition: number, batch: readonly KafkaMessage[], acceptGap = false, cut: BatchCut | null = null): Promise<BatchOutcome> {
    const source = this.sourceFor(topic);
    let decoded: (SourceChange | { poison: PoisonEvent; message: KafkaMessage })[] = [];
    for (const message of batch) {
      // A delete's tombstone (null value) exists for log compaction; the delete event before it carries the change.
      if (message.value === null) continue;
      try {
        decoded.push(await readChange(this.options.schemas, topic, partition, message));
      } catch (error) {
        if (!(error instanceof PoisonEvent)) throw error;
        decoded.push({ poison: error, message });
      }
    }
    // Reconcile's cut at LSN C: its source snapshot holds exactly the transactions whose commit
    // record starts before C (a commit record may start at C itself: the first one after the
    // temporary slot's consistent point). The first change committed at or after C and every later
    // message of the partition (poison events included) are held back for after the cut.
    let heldOffset: bigint | null = null;
    if (cut) {
      const first = decoded.findIndex((item) => !('poison' in item) && item.position.lsn >= cut.cut.lsn);
      if (first >= 0) {
        heldOffset = BigInt((decoded[first] as SourceChange).offset);
        decoded = decoded.slice(0, first);
      }
    }
    const messages = heldOffset === null ? batch : batch.filter((message) => BigInt(message.offset) < heldOffset);
    const held = batch.length - messages.length;
    const changes = decoded.filter((item): item is SourceChange => !('poison' in item));
    const compiled = changes.length > 0 ? await this.compiledFor(client, source, unionFields(changes), `${topic}[${partition}]@${changes[0]!.offset}`) : null;
    await this.ensureStaging(client, compiled);
    const hasTruncate = changes.some((change) => change.op === 't');
    const partitionKey = `${topic}:${partition}`;

    await client.query('BEGIN');
    try {
      await client.query(`INSERT INTO ${OFFSETS} (group_id, topic, partition) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [this.options.groupId, topic, partition]);
      const stored = await this.lockPartition(client, topic, partition);
      // Commit only what follows what was committed: a batch that starts after the stored offset
      // (the consumer moved on without a batch being applied) is not applied; the caller seeks back.
      const firstOffset = BigInt(batch[0]!.offset);
      if (stored.nextOffset > 0n && firstOffset > stored.nextOffset && !acceptGap) {
        await client.query('ROLLBACK');
        return { events: batch.length, skipped: batch.length, applied: 0, parked: 0, deadLettered: 0, nextOffset: stored.nextOffset.toString(), truncated: false, gap: true };
      }
      let barrier = await this.lockTopic(client, topic, hasTruncate);
      const fresh = decoded.filter((item) => {
        const offset = BigInt('poison' in item ? item.message.offset : item.offset);
        if (offset < stored.nextOffset) return false;
        return 'poison' in item || comparePositions(item.position, stored.position) > 0;
      });
      const freshChanges = fresh.filter((item): item is SourceChange => !('poison' in item));
      let truncated = false;
      const lastTruncate = freshChanges.findLast((change) => change.op === 't');
      if (lastTruncate && comparePositions(lastTruncate.position, barrier) > 0) {
        for (const target of [...compiled!.compiled.targets].reverse()) await client.query(target.truncate);
        await client.query('UPDATE tandem.translate_topics SET truncate_lsn = $2, truncate_phase = $3, truncate_sequence = $4, truncated_at = now() WHERE topic = $1', [topic, lastTruncate.position.lsn, lastTruncate.position.phase, lastTruncate.position.sequence]);
        barrier = lastTruncate.position;
        truncated = true;
        this.options.logger.info({ topic, partition, position: formatPosition(barrier) }, `truncate of ${source} applied to its targets`);
      }
      // Changes before the newest truncate were erased by it, whichever partition carried them.
      const live = freshChanges.filter((change) => change.op !== 't' && comparePositions(change.position, barrier) > 0);
      const parkedKeys = await this.parkedKeysOf(client, topic, partition);
      const toPark = live.filter((change) => parkedKeys.has(change.key));
      const toApply = live.filter((change) => !parkedKeys.has(change.key));
      const letters: DeadLetter[] = fresh.filter((item) => 'poison' in item).map((item) => ({ topic, partition, message: (item as { message: KafkaMessage }).message, error: (item as { poison: PoisonEvent }).poison.message }));

      const rows = collapseByKey(toApply);
      const failures = rows.length > 0 ? await this.stageAndApply(client, compiled!, rows) : [];
      const failed = new Set(failures.map((failure) => failure.row));
      for (const failure of failures) {
        if (failure.kind === 'parked') await this.park(client, failure.row, failure.error);
        else letters.push({ topic, partition, message: failure.row.last.message, error: failure.error, key: failure.row.key });
      }
      for (const row of collapseByKey(toPark)) await this.park(client, row, 'its key has an earlier change parked');
      const appliedRows = rows.filter((row) => !failed.has(row));
      await this.supersedeDeadLetters(client, topic, partition, appliedRows);
      await this.recordDeadLetters(client, letters);

      // Held at the cut: the partition goes on (after the cut) at the first held message.
      const nextOffset = heldOffset ?? BigInt(batch[batch.length - 1]!.offset) + 1n;
      const position = freshChanges.reduce<Position>((max, change) => (comparePositions(change.position, max) > 0 ? change.position : max), stored.position);
      if (nextOffset > stored.nextOffset) {
        await client.query(
          `UPDATE ${OFFSETS} SET next_offset = $4, applied_lsn = $5, applied_phase = $6, applied_sequence = $7, updated_at = now() WHERE group_id = $1 AND topic = $2 AND partition = $3`,
          [this.options.groupId, topic, partition, nextOffset, position.lsn, position.phase, position.sequence],
        );
        const firstLogged = stored.nextOffset > firstOffset ? stored.nextOffset : firstOffset;
        if (messages.length > 0 && nextOffset - 1n >= firstLogged) {
          await client.query(
            `INSERT INTO tandem.translate_batches (group_id, topic, partition, first_offset, last_offset, events, applied, skipped, parked, dead_lettered)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
            [this.options.groupId, topic, partition, firstLogged, nextOffset - 1n, fresh.length, appliedRows.reduce((sum, row) => sum + row.changes, 0), messages.length - fresh.length, toPark.length + failures.filter((f) => f.kind === 'parked').length, letters.length],
          );
        }
      }
      // In the same transaction as the rows and offsets: reconcile sees the hold only with them.
      if (cut && heldOffset !== null) await cut.gate.hold(client, cut.cut, topic, partition);
      // Dead letters reach Kafka before the commit: a crash may repeat one, never lose one.
      await this.options.deadLetters.send(this.options.connector.name, letters);
      await client.query('COMMIT');

      for (const failure of failures) if (failure.kind === 'parked') parkedKeys.add(failure.row.key);
      const deadKeys = this.deadKeys.get(partitionKey);
      for (const letter of letters) if (letter.key) deadKeys?.add(letter.key);
      this.observe(compiled, appliedRows, letters.length, toPark.length + failures.filter((f) => f.kind === 'parked').length);
      return {
        events: messages.length,
        skipped: messages.length - fresh.length,
        applied: appliedRows.reduce((sum, row) => sum + row.changes, 0),
        parked: toPark.length + failures.filter((failure) => failure.kind === 'parked').length,
        deadLettered: letters.length,
        nextOffset: (nextOffset > stored.nextOffset ? nextOffset : stored.nextOffset).toString(),
        truncated,
        ...(heldOffset !== null ? { held } : {}),
      };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /** Deletes this group's batch log rows committed more than `keepMs` ago; returns how many. */
  async pruneBatchLog(client: pg.ClientBase, keepMs: number): Promise<number> {
    const { rowCount } = await client.query(`DELETE FROM tandem.translate_batches WHERE group_id = $1 AND committed_at < clock_timestamp() - make_interval(secs => $2::double precision / 1000)`, [this.options.groupId, keepMs]);
    return rowCount ?? 0;
  }

  /**
   * Retries the parked changes of a partition: applied ones leave the park; those whose parent is
   * still missing stay until translate.parkTimeoutMs, then become dead letters.
   */
  async retryParked(client: pg.ClientBase, topic: string, partition: number): Promise<{ applied: number; stillParked: number; deadLettered: number }> {
    const keys = await this.parkedKeysOf(client, topic, partition);
    if (keys.size === 0) return { applied: 0, stillParked: 0, deadLettered: 0 };
    const source = this.sourceFor(topic);
    const { rows: parked } = await client.query<ParkedRow>(`SELECT *, (parked_at < now() - make_interval(secs => $3::double precision / 1000)) AS expired FROM tandem.translate_parked WHERE topic = $1 AND partition = $2 ORDER BY position_lsn, position_phase, position_sequence`, [topic, partition, this.options.connector.translate.parkTimeoutMs]);
    if (parked.length === 0) {
      keys.clear();
      return { applied: 0, stillParked: 0, deadLettered: 0 };
    }
    const fields = unionFields(await Promise.all(parked.map(async (row) => ({ fields: (await this.options.schemas.get(row.schema_id)).fields }))));
    const compiled = await this.compiledFor(client, source, fields, `parked changes of ${topic}[${partition}]`);
    await this.ensureStaging(client, compiled);
    await client.query('BEGIN');
    try {
      await this.lockPartition(client, topic, partition);
      const barrier = await this.lockTopic(client, topic, false);
      const { rows: locked } = await client.query<{ key: string }>('SELECT key FROM tandem.translate_parked WHERE topic = $1 AND partition = $2 FOR UPDATE', [topic, partition]);
      const still = new Set(locked.map((row) => row.key));
      const current = parked.filter((row) => still.has(row.key));
      const erased = current.filter((row) => comparePositions(parkedPosition(row), barrier) <= 0);
      const candidates = current.filter((row) => comparePositions(parkedPosition(row), barrier) > 0).map((row) => ({ parked: row, staged: stagedFromParked(topic, row) }));
      const failures = candidates.length > 0 ? await this.stageAndApply(client, compiled, candidates.map((candidate) => candidate.staged)) : [];
      const failedRows = new Map(failures.map((failure) => [failure.row, failure]));
      const letters: DeadLetter[] = [];
      const leave: string[] = erased.map((row) => row.key);
      let stillParked = 0;
      for (const { parked: row, staged } of candidates) {
        const failure = failedRows.get(staged);
        if (!failure) {
          leave.push(row.key);
        } else if (failure.kind === 'poison' || row.expired) {
          const reason = failure.kind === 'poison' ? failure.error : `parked for more than ${this.options.connector.translate.parkTimeoutMs} ms (translate.parkTimeoutMs): ${failure.error}`;
          letters.push({ topic, partition, message: staged.last.message, error: reason, key: row.key });
          leave.push(row.key);
        } else {
          stillParked++;
          await client.query('UPDATE tandem.translate_parked SET attempts = attempts + 1, error = $3 WHERE topic = $1 AND key = $2', [topic, row.key, failure.error]);
        }
      }
      if (leave.length > 0) await client.query('DELETE FROM tandem.translate_parked WHERE topic = $1 AND key = ANY($2::text[])', [topic, leave]);
      await this.recordDeadLetters(client, letters);
      await this.options.deadLetters.send(this.options.connector.name, letters);
      await client.query('COMMIT');
      for (const key of leave) keys.delete(key);
      const applied = candidates.filter((candidate) => !failedRows.has(candidate.staged)).map((candidate) => candidate.staged);
      this.observe(compiled, applied, letters.length, 0);
      this.options.metrics?.parked.set({ topic, partition: String(partition) }, keys.size);
      return { applied: applied.length, stillParked, deadLettered: letters.length };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /**
   * Applies a dead letter again (after a fix), at most once per source offset: the dead-letter row
   * is marked replayed in the same transaction. A dead letter whose key changed since is skipped,
   * so a replay never overwrites a newer state of the row.
   */
  async replay(client: pg.ClientBase, topic: string, partition: number, message: KafkaMessage): Promise<{ status: 'applied' | 'already replayed' | 'superseded' | 'failed'; detail?: string }> {
    const source = this.sourceFor(topic);
    const change = await readChange(this.options.schemas, topic, partition, message);
    const compiled = await this.compiledFor(client, source, change.fields, `dead letter ${topic}[${partition}]@${message.offset}`);
    await this.ensureStaging(client, compiled);
    await client.query('BEGIN');
    try {
      await client.query(`INSERT INTO tandem.translate_dead_letters (topic, partition, kafka_offset, key, error) VALUES ($1, $2, $3, $4, 'recorded by replay') ON CONFLICT DO NOTHING`, [topic, partition, message.offset, change.key]);
      const { rows } = await client.query<{ replayed_at: Date | null; superseded_by_offset: string | null }>('SELECT replayed_at, superseded_by_offset::text FROM tandem.translate_dead_letters WHERE topic = $1 AND partition = $2 AND kafka_offset = $3 FOR UPDATE', [topic, partition, message.offset]);
      const letter = rows[0]!;
      if (letter.replayed_at) {
        await client.query('ROLLBACK');
        return { status: 'already replayed' };
      }
      if (letter.superseded_by_offset !== null) {
        await client.query('ROLLBACK');
        return { status: 'superseded', detail: `a later change of the same row (offset ${letter.superseded_by_offset}) was applied` };
      }
      const barrier = await this.lockTopic(client, topic, false);
      if (change.op === 't' || comparePositions(change.position, barrier) <= 0) {
        await client.query('UPDATE tandem.translate_dead_letters SET replayed_at = now() WHERE topic = $1 AND partition = $2 AND kafka_offset = $3', [topic, partition, message.offset]);
        await client.query('COMMIT');
        return { status: 'superseded', detail: 'the legacy table was truncated after it' };
      }
      const failures = await this.stageAndApply(client, compiled, collapseByKey([change]));
      if (failures.length > 0) {
        await client.query('ROLLBACK');
        return { status: 'failed', detail: failures[0]!.error };
      }
      await client.query('UPDATE tandem.translate_dead_letters SET replayed_at = now() WHERE topic = $1 AND partition = $2 AND kafka_offset = $3', [topic, partition, message.offset]);
      await client.query('COMMIT');
      return { status: 'applied' };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  private sourceFor(topic: string): string {
    const source = this.sourceOfTopic.get(topic);
    if (!source) throw new TandemError(`topic ${topic} is not one of connector ${this.options.connector.name}'s tables`, { fix: 'check kafka.topicPrefix and source.tables' });
    return source;
  }

  private async lockPartition(client: pg.ClientBase, topic: string, partition: number): Promise<{ nextOffset: bigint; position: Position }> {
    const { rows } = await client.query<{ next_offset: string; applied_lsn: string; applied_phase: number; applied_sequence: string }>(
      `SELECT next_offset, applied_lsn, applied_phase, applied_sequence FROM ${OFFSETS} WHERE group_id = $1 AND topic = $2 AND partition = $3 FOR UPDATE`,
      [this.options.groupId, topic, partition],
    );
    const row = rows[0];
    if (!row) return { nextOffset: 0n, position: ZERO_POSITION };
    return { nextOffset: BigInt(row.next_offset), position: { lsn: BigInt(row.applied_lsn), phase: row.applied_phase as 0 | 1, sequence: BigInt(row.applied_sequence) } };
  }

  private async lockTopic(client: pg.ClientBase, topic: string, exclusive: boolean): Promise<Position> {
    const { rows } = await client.query<{ truncate_lsn: string; truncate_phase: number; truncate_sequence: string }>(
      `SELECT truncate_lsn, truncate_phase, truncate_sequence FROM tandem.translate_topics WHERE topic = $1 ${exclusive ? 'FOR UPDATE' : 'FOR SHARE'}`,
      [topic],
    );
    const row = rows[0];
    if (!row) throw new TandemError(`topic ${topic} is not registered in tandem.translate_topics`, { fix: 'restart translate (it registers its topics at start)' });
    return { lsn: BigInt(row.truncate_lsn), phase: row.truncate_phase as 0 | 1, sequence: BigInt(row.truncate_sequence) };
  }

  private async parkedKeysOf(client: pg.ClientBase, topic: string, partition: number): Promise<Set<string>> {
    const partitionKey = `${topic}:${partition}`;
    let keys = this.parkedKeys.get(partitionKey);
    if (!keys) {
      const { rows } = await client.query<{ key: string }>('SELECT key FROM tandem.translate_parked WHERE topic = $1 AND partition = $2', [topic, partition]);
      keys = new Set(rows.map((row) => row.key));
      this.parkedKeys.set(partitionKey, keys);
      const dead = await client.query<{ key: string }>('SELECT key FROM tandem.translate_dead_letters WHERE topic = $1 AND partition = $2 AND replayed_at IS NULL AND superseded_by_offset IS NULL', [topic, partition]);
      this.deadKeys.set(partitionKey, new Set(dead.rows.map((row) => row.key)));
    }
    return keys;
  }

  /** Loads the parked and dead-lettered keys of newly assigned partitions (the retry loop needs them before any batch). */
  async loadPartitions(client: pg.ClientBase, partitions: readonly { topic: string; partition: number }[]): Promise<void> {
    for (const { topic, partition } of partitions) await this.parkedKeysOf(client, topic, partition);
  }

  /** Partitions with parked changes, for the retry loop. */
  partitionsWithParked(): { topic: string; partition: number }[] {
    return [...this.parkedKeys.entries()].filter(([, keys]) => keys.size > 0).map(([key]) => {
      const colon = key.lastIndexOf(':');
      return { topic: key.slice(0, colon), partition: Number(key.slice(colon + 1)) };
    });
  }

  private async compiledFor(client: pg.ClientBase, source: string, fields: readonly RowField[], where: string): Promise<Compiled> {
    const signature = `${source}\u0000${fields.map((field) => `${field.name}:${field.avroStagingType}`).join(',')}`;
    const cached = this.compiled.get(signature);
    if (cached) return cached;
    let catalog: TableDefinition | null = null;
    const sourceClient = await this.options.sourceClient();
    if (sourceClient) {
      const { schema, table } = splitQualified(source);
      // Partitions compile concurrently but share the one source connection: read one at a time.
      const read = this.sourceCatalogReads.then(() => readTableDefinition(sourceClient, schema, table));
      this.sourceCatalogReads = read.catch(() => undefined);
      catalog = await read.catch((error: unknown) => {
        this.options.logger.warn({ err: error, table: source }, `cannot read ${source} from the source catalog; staging types come from the Avro schema`);
        return null;
      });
    }
    const shape = sourceShapeOf(source, fields, catalog, []);
    const { resolved, problems } = await validateSource(client, this.options.plan, source, shape, this.options.targets);
    if (!resolved) {
      const error = mappingProblemsError(this.options.connector.name, problems, `translate stopped at ${where}: the mappings of ${source} do not apply to its rows as they are now (columns: ${shape.columns.map((column) => column.name).join(', ')})`);
      throw new TandemError(error.message, { fix: `if a column the mapping reads was dropped or renamed in ${source}, change the mapping to match (or restore the column), then restart translate: it resumes after the last applied change` });
    }
    const compiled = compileSource(resolved, ++this.shapeVersion);
    const jsByStaging = new Map(resolved.jsColumns.map((js) => [js.stagingName, js.column.compute]));
    const js = compiled.staging.columns.filter((name) => jsByStaging.has(name)).map((name) => {
      const compute = jsByStaging.get(name)!;
      return (values: Record<string, string | null>) => jsText(compute(values));
    });
    const entry = { compiled, js };
    this.compiled.set(signature, entry);
    if (this.shapeVersion > 1) this.options.logger.info({ table: source, columns: shape.columns.map((column) => column.name) }, `mappings of ${source} compiled for its current columns`);
    return entry;
  }

  /** Temporary staging tables live per connection: created outside the batch transaction, once. */
  private async ensureStaging(client: pg.ClientBase, compiled: Compiled | null): Promise<void> {
    if (!compiled) return;
    let tables = this.staged.get(client);
    if (!tables) this.staged.set(client, (tables = new Set()));
    if (tables.has(compiled.compiled.staging.table)) return;
    await client.query(compiled.compiled.staging.create);
    tables.add(compiled.compiled.staging.table);
  }

  /** COPY the rows, run the statements, bisect failures. Returns the rows that could not be written. */
  private async stageAndApply(client: pg.ClientBase, entry: Compiled, input: StagedRow[]): Promise<RowFailure[]> {
    const failures: RowFailure[] = [];
    const { compiled } = entry;
    const sourceColumns = compiled.staging.columns.slice(0, compiled.staging.columns.length - entry.js.length);
    const lines: string[] = [];
    const rows: StagedRow[] = [];
    let hasUnsent = false;
    for (const row of input) {
      let jsValues: (string | null)[] = [];
      if (row.op !== 'd' && entry.js.length > 0) {
        try {
          jsValues = entry.js.map((compute) => compute(row.values));
        } catch (error) {
          failures.push({ row, kind: 'poison', error: `a js() column threw: ${(error as Error).message}` });
          continue;
        }
      } else {
        jsValues = entry.js.map(() => null);
      }
      if (row.unsent.length > 0) hasUnsent = true;
      const fields = [String(rows.length), row.op, `{${row.unsent.map((name) => `"${name}"`).join(',')}}`];
      for (const column of sourceColumns) fields.push(copyField(row.values[column] ?? null));
      for (const value of jsValues) fields.push(copyField(value));
      lines.push(fields.join('\t'));
      rows.push(row);
    }
    if (rows.length === 0) return failures;
    await copyFrom(client, compiled.staging.copy, Buffer.from(`${lines.join('\n')}\n`));

    const run = async (lo: number, hi: number) => {
      for (const target of compiled.targets) {
        await client.query(target.upsert, [lo, hi]);
        if (hasUnsent && target.insertUnsent) await client.query(target.insertUnsent, [lo, hi]);
        if (hasUnsent && target.updateUnsent) await client.query(target.updateUnsent, [lo, hi]);
      }
      for (let index = compiled.targets.length - 1; index >= 0; index--) await client.query(compiled.targets[index]!.remove, [lo, hi]);
    };
    const bisect = async (lo: number, hi: number): Promise<void> => {
      await client.query('SAVEPOINT tandem_range');
      try {
        await run(lo, hi);
        await client.query('RELEASE SAVEPOINT tandem_range');
      } catch (error) {
        const kind = classifyFailure(error);
        if (kind === 'transient' || kind === 'fatal') throw error;
        await client.query('ROLLBACK TO SAVEPOINT tandem_range');
        await client.query('RELEASE SAVEPOINT tandem_range');
        if (hi - lo === 1) {
          failures.push({ row: rows[lo]!, kind, error: describePgError(error) });
          return;
        }
        const middle = lo + Math.floor((hi - lo) / 2);
        await bisect(lo, middle);
        await bisect(middle, hi);
      }
    };
    await bisect(0, rows.length);
    return failures;
  }

  private async park(client: pg.ClientBase, row: StagedRow, error: string): Promise<void> {
    const change = row.last;
    const sent = Object.fromEntries(Object.entries(row.values).filter(([column]) => !row.unsent.includes(column)));
    await client.query(
      `INSERT INTO tandem.translate_parked AS p (topic, key, partition, kafka_offset, op, row_values, unsent, schema_id, position_lsn, position_phase, position_sequence, commit_ts_ms, message_key, message_value, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
       ON CONFLICT (topic, key) DO UPDATE SET
         kafka_offset = EXCLUDED.kafka_offset, op = EXCLUDED.op, schema_id = EXCLUDED.schema_id,
         row_values = CASE WHEN EXCLUDED.op = 'd' OR p.op = 'd' THEN EXCLUDED.row_values ELSE p.row_values || EXCLUDED.row_values END,
         unsent = CASE WHEN EXCLUDED.op = 'd' OR p.op = 'd' THEN EXCLUDED.unsent
                       ELSE ARRAY(SELECT u FROM unnest(EXCLUDED.unsent) AS u WHERE NOT (p.row_values ? u) OR u = ANY(p.unsent)) END,
         position_lsn = EXCLUDED.position_lsn, position_phase = EXCLUDED.position_phase, position_sequence = EXCLUDED.position_sequence,
         commit_ts_ms = EXCLUDED.commit_ts_ms, message_key = EXCLUDED.message_key, message_value = EXCLUDED.message_value`,
      [change.topic, row.key, change.partition, change.offset, row.op, JSON.stringify(sent), row.unsent, change.schemaId, change.position.lsn, change.position.phase, change.position.sequence, change.commitTsMs, change.message.key, change.message.value, error],
    );
  }

  private async recordDeadLetters(client: pg.ClientBase, letters: readonly DeadLetter[]): Promise<void> {
    for (const letter of letters) {
      await client.query(
        `INSERT INTO tandem.translate_dead_letters (topic, partition, kafka_offset, key, error) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (topic, partition, kafka_offset) DO UPDATE SET error = EXCLUDED.error, dead_lettered_at = now(), replayed_at = NULL, superseded_by_offset = NULL`,
        [letter.topic, letter.partition, letter.message.offset, letter.key ?? '', letter.error],
      );
    }
  }

  /** A later change of a dead-lettered row was applied: replaying the dead letter would go back in time. */
  private async supersedeDeadLetters(client: pg.ClientBase, topic: string, partition: number, applied: readonly StagedRow[]): Promise<void> {
    const dead = this.deadKeys.get(`${topic}:${partition}`);
    if (!dead || dead.size === 0) return;
    const hits = applied.filter((row) => dead.has(row.key));
    if (hits.length === 0) return;
    await client.query(
      `UPDATE tandem.translate_dead_letters AS d SET superseded_by_offset = h.kafka_offset FROM unnest($2::text[], $3::bigint[]) AS h(key, kafka_offset)
        WHERE d.topic = $1 AND d.key = h.key AND d.replayed_at IS NULL AND d.superseded_by_offset IS NULL AND d.kafka_offset < h.kafka_offset`,
      [topic, hits.map((row) => row.key), hits.map((row) => row.last.offset)],
    );
    for (const row of hits) dead.delete(row.key);
  }

  private observe(compiled: Compiled | null, applied: readonly StagedRow[], deadLettered: number, parked: number): void {
    const metrics = this.options.metrics;
    if (!metrics || !compiled) return;
    const now = Date.now();
    for (const target of compiled.compiled.targets) {
      let upserts = 0;
      for (const row of applied) if (row.op === 'u') upserts++;
      if (upserts) metrics.applied.inc({ target: target.mapping.target.table, op: 'upsert' }, upserts);
      if (applied.length - upserts) metrics.applied.inc({ target: target.mapping.target.table, op: 'delete' }, applied.length - upserts);
    }
    for (const row of applied) if (row.last.position.phase === 1) metrics.endToEndLag.observe(Math.max(0, now - row.last.commitTsMs) / 1000);
    if (deadLettered) metrics.deadLettered.inc(deadLettered);
    if (parked) metrics.parkedTotal.inc(parked);
  }
}

interface ParkedRow {
  topic: string;
  key: string;
  partition: number;
  kafka_offset: string;
  op: 'u' | 'd';
  row_values: Record<string, string | null>;
  unsent: string[];
  schema_id: number;
  position_lsn: string;
  position_phase: number;
  position_sequence: string;
  commit_ts_ms: string;
  message_key: Buffer | null;
  message_value: Buffer;
  expired: boolean;
}

function parkedPosition(row: ParkedRow): Position {
  return { lsn: BigInt(row.position_lsn), phase: row.position_phase as 0 | 1, sequence: BigInt(row.position_sequence) };
}

function stagedFromParked(topic: string, row: ParkedRow): StagedRow {
  const message: KafkaMessage = { key: row.message_key, value: row.message_value, offset: row.kafka_offset, timestamp: '0', attributes: 0, headers: {} } as KafkaMessage;
  const last: SourceChange = {
    topic,
    partition: row.partition,
    offset: row.kafka_offset,
    op: row.op === 'd' ? 'd' : 'u',
    position: parkedPosition(row),
    key: row.key,
    values: row.row_values,
    unsent: row.unsent,
    fields: [],
    schemaId: row.schema_id,
    commitTsMs: Number(row.commit_ts_ms),
    message,
  };
  return { key: row.key, op: row.op, values: row.row_values, unsent: row.unsent, last, changes: 1 };
}

/** The union of the row fields of the changes' writer schemas, in order of first appearance. */
function unionFields(changes: readonly { fields: readonly RowField[] }[]): RowField[] {
  const seen = new Map<string, RowField>();
  let previous: readonly RowField[] | null = null;
  for (const change of changes) {
    if (change.fields === previous) continue;
    previous = change.fields;
    for (const field of change.fields) if (!seen.has(field.name)) seen.set(field.name, field);
  }
  return [...seen.values()];
}

/** A js() result → the text translate stages and casts to the target column type (null → NULL). */
export function jsText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}

function describePgError(error: unknown): string {
  const failure = error as { message?: string; code?: string; detail?: string; table?: string; constraint?: string };
  return [failure.message ?? String(error), failure.detail, failure.code ? `SQLSTATE ${failure.code}` : undefined].filter(Boolean).join('; ');
}
