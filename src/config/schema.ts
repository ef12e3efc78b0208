import { z } from 'zod';
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

const columnMapping = z.union([
  z.string().min(1),
  z.strictObject({
    from: z.string().min(1).optional(),
    sql: z.string().min(1).optional(),
    cast: z.string().min(1).optional(),
  }),
]);

const tableMapping = z.strictObject({
  /** Target table (`schema.table` or `table` in target.schema). */
  to: tableName,
  /** target column → source column, or an expression object. Unlisted source columns with the same name are copied. */
  columns: z.record(z.string(), columnMapping).default({}),
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
    mappings: z.record(z.string(), tableMapping).default({}),
    capture: z
      .strictObject({
        snapshot: z.enum(['initial', 'never']).default('initial'),
        snapshotChunkSize: z.number().int().positive().default(10_000),
        heartbeatIntervalMs: z.number().int().positive().default(10_000),
        metricsPort: z.number().int().min(0).max(65_535).default(9464),
      })
      .prefault({}),
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
