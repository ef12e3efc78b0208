import { z } from 'zod';
import { DURATION_PATTERN } from './duration.js';
import { isEnvReference, resolveEnv } from './env.js';

/** A plain string, or env('NAME') resolved at load time (and masked in logs). */
const secretString = z.union([z.string().min(1), z.custom<{ kind: 'env'; name: string }>(isEnvReference, 'expected a string or env("NAME")')]);

const identifier = z
  .string()
  .regex(/^[a-z_][a-z0-9_$]*$/i, 'must be a plain SQL identifier (letters, digits, _ ; start with a letter or _)')
  .max(63, 'PostgreSQL identifiers are at most 63 characters');

/** Tables are written `schema.table`, or `table` in source.schema. */
const tableName = z
  .string()
  .regex(/^([a-z_][a-z0-9_$]*\.)?[a-z_][a-z0-9_$]*$/i, 'must be "table" or "schema.table" with plain identifiers');

const postgresUrl = secretString.refine(
  (value) => typeof value !== 'string' || /^postgres(ql)?:\/\//.test(value),
  'must be a postgres:// or postgresql:// connection URL',
);

/** A column computed in Node by `js(row => value)`: the escape hatch when SQL cannot express it. */
export interface JsColumn {
  kind: 'js';
  compute: (row: Readonly<Record<string, string | null>>) => unknown;
}

export function isJsColumn(value: unknown): value is JsColumn {
  return typeof value === 'object' && value !== null && (value as JsColumn).kind === 'js' && typeof (value as JsColumn).compute === 'function';
}

/** A PostgreSQL expression over the legacy row, or js(row => value). */
const columnExpression = z.union([z.string().min(1, 'an empty expression; write a PostgreSQL expression over the legacy row'), z.custom<JsColumn>(isJsColumn, 'expected a PostgreSQL expression (string) or js(row => value)')]);

const tableMapping = z.strictObject({
  /** Target table (`schema.table` or `table` in target.schema); its key is its primary key. */
  to: tableName,
  /** target column → PostgreSQL expression over the legacy row. A target column left out whose name is a source column is copied. */
  columns: z.record(identifier, columnExpression).default({}),
  /** Only legacy rows matching this boolean expression are in the target; rows that stop matching leave it (onDelete). */
  where: z.string().min(1).optional(),
  /** What a legacy delete (or a row leaving `where`) does: delete the target row, or update it (soft delete). */
  onDelete: z.union([z.literal('delete'), z.strictObject({ set: z.record(identifier, z.string().min(1)).refine((set) => Object.keys(set).length > 0, 'list at least one column to set') })]).default('delete'),
});

/** One target, or several (a split). Several sources may name the same target (a merge). */
const sourceMappings = z.union([tableMapping, z.array(tableMapping).min(1, 'list at least one target mapping')]);

/** A duration: milliseconds, or `90s`, `15m`, `4h`, `7d`. */
const duration = z.union([z.number().int().nonnegative(), z.string().regex(DURATION_PATTERN, 'must be a duration such as 90s, 15m, 4h or 7d')]);

const phaseName = z.string().regex(/^[a-z][a-z0-9-]*$/, 'phase names use lowercase letters, digits and -, starting with a letter');

/** One step of the rollout: the gate values while it runs, and what must hold before entering it. */
const rolloutPhase = z.strictObject({
  name: phaseName,
  description: z.string().optional(),
  /** Percentage of reads (by stickiness key) served from the new schema. */
  readNew: z.number().int().min(0).max(100),
  /** Services (as they name themselves to the SDK or in the OpenFeature context's `service`) whose every read goes to new in this phase, whatever readNew says. */
  readNewServices: z.array(z.string().min(1, 'a service name cannot be empty')).optional(),
  /** Where services write; `new` turns reverse sync (new → legacy) on. */
  write: z.enum(['legacy', 'new']).default('legacy'),
  /** Reverse sync keeps legacy in step while writes go to new; off retires legacy (only with write: new). */
  reverseSync: z.boolean().optional(),
  criteria: z
    .strictObject({
      /** The last N finished reconcile runs are clean. */
      reconcileCleanRuns: z.number().int().nonnegative().default(0),
      /** End-to-end lag (source commit → applied on the target) at most this many seconds. */
      maxLagSeconds: z.number().positive().optional(),
      /** Errors reported by services on the new schema / their decisions for it, over rollout.watch.errorWindow. */
      maxErrorRate: z.number().min(0).max(1).optional(),
      /** Time spent in the previous phase before this one may start. */
      minSoak: duration.optional(),
    })
    .prefault({}),
  approvals: z
    .strictObject({
      count: z.number().int().nonnegative().default(0),
      /** Who may approve (names given with --by, or API key names); empty = anyone. */
      approvers: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
});

const apiKey = z.union([secretString, z.strictObject({ key: secretString, role: z.enum(['read', 'operate']).default('read') })]);

const rolloutSection = z
  .strictObject({
    /** Unleash groupId of the bucketing hash (`groupId:key`); default: the connector name. */
    groupId: z.string().min(1).optional(),
    /** What services pass as the key of readFrom(key) (documentation and the console). */
    stickiness: z.string().min(1).default('tenantId'),
    /** The ordered plan; default: shadow → verify → canary 5% → ramp 25/50/100 → cutover → contract. */
    phases: z.array(rolloutPhase).min(2, 'a plan has at least two phases').optional(),
    rollback: z
      .strictObject({
        /** A reconcile run that found drift after the current phase began rolls back. */
        onDrift: z.boolean().default(true),
        maxLagSeconds: z.number().positive().default(300),
        maxErrorRate: z.number().min(0).max(1).default(0.05),
        /** Where an automatic rollback goes; default: the last phase before the current one with every gate on legacy. */
        to: phaseName.optional(),
      })
      .prefault({}),
    watch: z
      .strictObject({
        interval: duration.default('15s'),
        /** Promote on its own when every criterion of the next phase is met and it needs no approval. */
        autoPromote: z.boolean().default(false),
        errorWindow: duration.default('5m'),
      })
      .prefault({}),
    serve: z
      .strictObject({
        port: z.number().int().min(0).max(65_535).default(8470),
        /** Key name → key (env('...')), or { key, role }: `read` evaluates gates, `operate` may also promote, roll back, approve. */
        apiKeys: z.record(z.string().regex(/^[a-zA-Z0-9_.-]+$/, 'key names use letters, digits, _ . -'), apiKey).default({}),
      })
      .prefault({}),
    /** Reverse mappings for reverse sync after cutover: new table → legacy table(s), columns as SQL over the new row. */
    reverse: z.record(z.string(), z.union([tableMapping, z.array(tableMapping).min(1, 'list at least one legacy mapping')])).default({}),
  })
  .superRefine((rollout, context) => {
    const names = new Set<string>();
    (rollout.phases ?? []).forEach((phase, index) => {
      if (names.has(phase.name)) context.addIssue({ code: 'custom', path: ['phases', index, 'name'], message: `phase "${phase.name}" is listed twice` });
      names.add(phase.name);
      if (phase.reverseSync !== undefined && phase.write === 'legacy') context.addIssue({ code: 'custom', path: ['phases', index, 'reverseSync'], message: 'reverse sync runs only while writes go to new; remove it or set write: new' });
    });
    const first = rollout.phases?.[0];
    if (first && (first.readNew !== 0 || first.write !== 'legacy' || (first.readNewServices ?? []).length > 0)) {
      context.addIssue({ code: 'custom', path: ['phases', 0], message: 'the first phase must keep every reader and writer on legacy (readNew: 0, no readNewServices, write: legacy)' });
    }
    if (rollout.rollback.to && rollout.phases && !names.has(rollout.rollback.to)) context.addIssue({ code: 'custom', path: ['rollback', 'to'], message: `no phase "${rollout.rollback.to}" in phases` });
  });

export const connectorSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z][a-z0-9_-]*$/, 'must be lowercase letters, digits, - or _, starting with a letter'),
    source: z.strictObject({
      url: postgresUrl,
      schema: identifier.default('public'),
      tables: z.array(tableName).min(1, 'list at least one table to capture'),
      publication: identifier.optional(),
      slot: z.string().regex(/^[a-z0-9_]{1,63}$/, 'replication slot names use lowercase letters, digits and _ (max 63)').optional(),
    }),
    kafka: z.strictObject({
      brokers: z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')).min(1, 'list at least one broker'),
      topicPrefix: z.string().regex(/^[a-zA-Z0-9._-]+$/, 'Kafka topic names use letters, digits, . _ -').optional(),
      clientId: z.string().optional(),
      ssl: z.union([z.boolean(), z.strictObject({ ca: z.string().optional(), cert: z.string().optional(), key: secretString.optional(), rejectUnauthorized: z.boolean().optional() })]).optional(),
      sasl: z
        .strictObject({
          mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
          username: secretString,
          password: secretString,
        })
        .optional(),
    }),
    registry: z.strictObject({
      url: z.union([z.string().url('must be an http(s) URL'), secretString]),
      auth: z.strictObject({ username: secretString, password: secretString }).optional(),
    }),
    target: z.strictObject({
      url: postgresUrl,
      schema: identifier.default('public'),
    }),
    mappings: z.record(z.string(), sourceMappings).default({}),
    translate: z
      .strictObject({
        /** Consumer group shared by the translate workers of this connector (default tandem-translate-<name>). */
        groupId: z.string().min(1).optional(),
        /** How long an event whose foreign-key parent has not arrived stays parked before it becomes a dead letter. */
        parkTimeoutMs: z.number().int().positive().default(300_000),
        /** How often parked events are retried. */
        parkRetryMs: z.number().int().positive().default(1_000),
        /** Longest wait between retries of a transient failure (connection lost, deadlock, serialization failure). */
        maxRetryBackoffMs: z.number().int().positive().default(10_000),
        /** A worker that stops heartbeating for this long loses its partitions to the others. */
        sessionTimeoutMs: z.number().int().min(6_000).max(300_000).default(30_000),
        /** Partitions applied at the same time by one worker (one target connection each). */
        concurrency: z.number().int().positive().max(64).default(3),
        /** How long `tandem.translate_batches` keeps a committed batch (the record that each offset was applied once); the workers delete older rows. */
        batchHistory: duration.default('7d'),
        metricsPort: z.number().int().min(0).max(65_535).default(9465),
      })
      .prefault({}),
    reconcile: z
      .strictObject({
        /** Rows per chunk: the key space is split every this many keys (from the key distribution). */
        chunkRows: z.number().int().min(100).default(50_000),
        /** An unequal segment of at most this many rows is compared row by row; larger ones are bisected. */
        bisectRows: z.number().int().min(10).default(2_000),
        /** A larger unequal segment of at most this many rows is compared by its rows' hashes, then only the differing rows fetched. */
        hashListRows: z.number().int().min(0).default(100_000),
        /** Source and target in one database: compare each chunk with one query joining both sides (one snapshot) instead of a checksum on each. */
        joinSameDatabase: z.boolean().default(true),
        /** Segments an unequal segment is split into. */
        bisectFactor: z.number().int().min(2).max(256).default(16),
        /** Chunks compared at the same time (one connection per side each). */
        parallelism: z.number().int().positive().max(64).default(2),
        statementTimeoutMs: z.number().int().positive().default(300_000),
        /** Reconcile never waits long for a lock (a DDL statement queued behind it would block writers). */
        lockTimeoutMs: z.number().int().positive().default(2_000),
        /** How long translate workers have to acknowledge a cut before reconcile settles and rechecks instead. */
        cutTimeoutMs: z.number().int().positive().default(10_000),
        /** Settle and recheck: rounds of re-comparing differing keys, and the wait before each (at least the measured lag). */
        settleRounds: z.number().int().min(0).max(20).default(3),
        settleDelayMs: z.number().int().min(0).default(2_000),
        /** Keys listed per kind and table in reports (the counts are always complete). */
        reportKeys: z.number().int().positive().default(100),
        /** Webhook for drift alerts: JSON POST with a Slack-compatible `text`, when drift appears, changes or is resolved. */
        webhook: z.strictObject({ url: z.union([z.string().url('must be an http(s) URL'), secretString]) }).optional(),
        metricsPort: z.number().int().min(0).max(65_535).default(9466),
      })
      .prefault({}),
    capture: z
      .strictObject({
        snapshot: z.enum(['initial', 'never']).default('initial'),
        snapshotChunkSize: z.number().int().positive().default(10_000),
        heartbeatIntervalMs: z.number().int().positive().default(10_000),
        metricsPort: z.number().int().min(0).max(65_535).default(9464),
      })
      .prefault({}),
    rollout: rolloutSection.prefault({}),
  })
  .superRefine((connector, context) => {
    const qualified = new Set(connector.source.tables.map((table) => qualify(table, connector.source.schema)));
    for (const key of Object.keys(connector.mappings)) {
      if (!qualified.has(qualify(key, connector.source.schema))) {
        context.addIssue({ code: 'custom', path: ['mappings', key], message: `table "${key}" is not in source.tables; add it there or remove this mapping` });
      }
    }
    const seen = new Set<string>();
    connector.source.tables.forEach((table, index) => {
      const name = qualify(table, connector.source.schema);
      if (seen.has(name)) context.addIssue({ code: 'custom', path: ['source', 'tables', index], message: `table "${name}" is listed twice` });
      seen.add(name);
    });
  });

export function qualify(table: string, defaultSchema: string): string {
  return table.includes('.') ? table : `${defaultSchema}.${table}`;
}

export type ConnectorInput = z.input<typeof connectorSchema>;
type Parsed = z.output<typeof connectorSchema>;

/** The parsed shape with every env() reference replaced by its string value. */
type Resolved<T> = T extends { kind: 'env'; name: string }
  ? string
  : T extends (...args: never[]) => unknown
    ? T
    : T extends readonly (infer Item)[]
    ? Resolved<Item>[]
    : T extends object
      ? { [Key in keyof T]: Resolved<T[Key]> }
      : T;

type ResolvedConnector = Resolved<Parsed>;

/** A validated connector: env() references resolved, defaults filled in, tables qualified. */
export type Connector = Omit<ResolvedConnector, 'source' | 'kafka'> & {
  source: ResolvedConnector['source'] & { publication: string; slot: string };
  kafka: ResolvedConnector['kafka'] & { topicPrefix: string };
};

/** Replaces env() references by their values, reporting the path of any that is unset. */
export function resolveSecrets(value: unknown, path: string[] = []): unknown {
  if (isEnvReference(value)) return resolveEnv(value, formatPath(path));
  if (Array.isArray(value)) return value.map((item, index) => resolveSecrets(item, [...path, String(index)]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolveSecrets(item, [...path, key])]));
  }
  return value;
}

/** `['source','tables',2]` → `source.tables[2]` */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((out, part) => {
    if (typeof part === 'number' || /^\d+$/.test(String(part))) return `${out}[${String(part)}]`;
    const name = String(part);
    const safe = /^[a-zA-Z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);
    return out ? (safe === name ? `${out}.${name}` : `${out}[${safe}]`) : name;
  }, '');
}
