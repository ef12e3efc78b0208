import type pg from 'pg';
import type { Connector } from '../config/index.js';
import { partitionedTables, publishesViaRoot, publishViaRootStatement } from '../capture/publication.js';
import { createKafka } from '../kafka/client.js';
import type { Logger } from '../observability/logger.js';
import { isCapturable, publicationTables, readReplicaIdentity, tableExists } from '../pg/catalog.js';
import { connectClient, describeUrl } from '../pg/connect.js';
import { quoteQualified, splitQualified } from '../pg/identifiers.js';
import { originGrantStatements, REPLICATION_ORIGIN_FUNCTIONS } from '../pg/replication-origin.js';
import { describeError, TandemError } from '../errors.js';
import { redactSecrets } from '../observability/redact.js';
import { RegistryApi } from '../schema/registry-api.js';
import { buildMappingPlan } from '../mapping/plan.js';
import type { MappingProblem } from '../mapping/resolve.js';
import { checkMappings } from '../translate/validate.js';

export type CheckStatus = 'ok' | 'fail';

export interface CheckResult {
  check: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

// Details quote servers' own messages, which may hold a URL with its password: scrubbed here, once.
const ok = (check: string, detail: string): CheckResult => ({ check, status: 'ok', detail: redactSecrets(detail) });
const fail = (check: string, detail: string, fix: string): CheckResult => ({ check, status: 'fail', detail: redactSecrets(detail), fix: redactSecrets(fix) });

/** Runs every prerequisite check of a connector. Never throws: an unreachable server is a failed check. */
export async function runDoctor(connector: Connector, logger: Logger): Promise<CheckResult[]> {
  return [
    ...(await checkSource(connector)),
    ...(await checkTarget(connector)),
    ...(await checkMappingsFit(connector)),
    ...(await checkReplicationOrigins(connector)),
    await checkKafka(connector, logger),
    await checkRegistry(connector),
  ];
}

/** Source-side checks; capture runs them before it starts and refuses to start on any failure. */
export async function checkSource(connector: Connector): Promise<CheckResult[]> {
  const { source } = connector;
  let client: pg.Client;
  try {
    client = await connectClient(source.url, 'source');
  } catch (error) {
    return [fail('source reachable', describeError(error).split('\n')[0]!, 'check source.url and that the server is running')];
  }
  try {
    const results: CheckResult[] = [ok('source reachable', describeUrl(source.url))];
    const setting = async (name: string) => (await client.query<{ setting: string }>('SELECT setting FROM pg_settings WHERE name = $1', [name])).rows[0]?.setting ?? '';

    const walLevel = await setting('wal_level');
    results.push(
      walLevel === 'logical'
        ? ok('wal_level', 'logical')
        : fail('wal_level', `wal_level is ${walLevel}; logical replication needs logical`, 'ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL (on managed services set the logical replication parameter)'),
    );

    const role = (await client.query<{ rolname: string; rolreplication: boolean; rolsuper: boolean }>('SELECT rolname, rolreplication, rolsuper FROM pg_roles WHERE rolname = current_user')).rows[0]!;
    results.push(
      role.rolreplication || role.rolsuper
        ? ok('replication privilege', `role ${role.rolname} may replicate`)
        : fail('replication privilege', `role ${role.rolname} lacks the REPLICATION attribute`, `ALTER ROLE ${role.rolname} WITH REPLICATION;`),
    );

    const maxSlots = Number(await setting('max_replication_slots'));
    const slots = (await client.query<{ slot_name: string; plugin: string | null }>('SELECT slot_name, plugin FROM pg_replication_slots')).rows;
    const ownSlot = slots.find((slot) => slot.slot_name === source.slot);
    if (ownSlot) {
      results.push(
        ownSlot.plugin === 'pgoutput'
          ? ok('replication slot', `slot ${source.slot} exists (pgoutput)`)
          : fail('replication slot', `slot ${source.slot} exists but uses ${ownSlot.plugin ?? 'physical replication'}`, `drop it (SELECT pg_drop_replication_slot('${source.slot}')) or choose another source.slot`),
      );
    } else {
      results.push(
        slots.length < maxSlots
          ? ok('free replication slots', `${maxSlots - slots.length} of ${maxSlots} free`)
          : fail('free replication slots', `all ${maxSlots} slots are in use`, 'drop an unused slot or raise max_replication_slots (restart needed)'),
      );
    }

    for (const table of source.tables) results.push(await checkSourceTable(client, table));
    results.push(await checkPublication(client, connector));
    const partitions = await checkPartitionedTables(client, connector);
    if (partitions) results.push(partitions);
    return results;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function checkSourceTable(client: pg.Client, table: string): Promise<CheckResult> {
  const check = `table ${table}`;
  const info = await readReplicaIdentity(client, table);
  if (!info.exists) return fail(check, `table ${table} does not exist`, `create it or correct source.tables`);
  if (isCapturable(info)) {
    const how = info.replicaIdentity === 'f' ? 'REPLICA IDENTITY FULL' : info.replicaIdentity === 'i' ? 'REPLICA IDENTITY USING INDEX' : 'primary key';
    return ok(check, `rows identified by ${how}`);
  }
  return fail(
    check,
    `table ${table} has no primary key and no usable REPLICA IDENTITY, so updates and deletes cannot be captured`,
    `ALTER TABLE ${quoteQualified(table)} ADD PRIMARY KEY (...); or ALTER TABLE ${quoteQualified(table)} REPLICA IDENTITY FULL;`,
  );
}

async function checkPublication(client: pg.Client, connector: Connector): Promise<CheckResult> {
  const { publication, tables } = connector.source;
  const check = `publication ${publication}`;
  const published = await publicationTables(client, publication);
  if (published) {
    const missing = tables.filter((table) => !published.includes(table));
    return missing.length === 0
      ? ok(check, `publishes all ${tables.length} tables`)
      : fail(check, `publication ${publication} does not publish ${missing.join(', ')}`, `ALTER PUBLICATION ${publication} ADD TABLE ${missing.map(quoteQualified).join(', ')};`);
  }
  // Creating a publication FOR TABLE needs ownership of each table (or superuser) and CREATE on the database.
  const { rows } = await client.query<{ can_create: boolean; superuser: boolean }>(
    `SELECT has_database_privilege(current_database(), 'CREATE') AS can_create, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser`,
  );
  const notOwned: string[] = [];
  if (!rows[0]!.superuser) {
    for (const table of tables) {
      const { schema, table: name } = splitQualified(table);
      const owner = await client.query(
        `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND pg_has_role(c.relowner, 'USAGE')`,
        [schema, name],
      );
      if (owner.rows.length === 0) notOwned.push(table);
    }
  }
  if (rows[0]!.can_create && notOwned.length === 0) return ok(check, 'does not exist yet; capture will create it');
  return fail(
    check,
    `publication ${publication} does not exist and this role cannot create it${notOwned.length ? ` (does not own ${notOwned.join(', ')})` : ''}`,
    `as a superuser: CREATE PUBLICATION ${publication} FOR TABLE ${tables.map(quoteQualified).join(', ')};`,
  );
}

/**
 * Partitioned tables need publish_via_partition_root, or their changes arrive under partition names
 * (capture sets it on a publication it created; a user's publication it refuses). No result when
 * no configured table is partitioned.
 */
async function checkPartitionedTables(client: pg.Client, connector: Connector): Promise<CheckResult | null> {
  const { publication, tables } = connector.source;
  const partitioned = await partitionedTables(client, tables);
  if (partitioned.length === 0) return null;
  const check = `publication ${publication} partitioned tables`;
  const viaRoot = await publishesViaRoot(client, publication);
  if (viaRoot === null) return ok(check, `capture will create the publication with publish_via_partition_root for ${partitioned.join(', ')}`);
  if (viaRoot) return ok(check, `${partitioned.join(', ')} published under their own name (publish_via_partition_root)`);
  return fail(
    check,
    `publication ${publication} lacks publish_via_partition_root, so changes of the partitioned ${partitioned.join(', ')} arrive under partition names that have no topic`,
    `${publishViaRootStatement(publication)};`,
  );
}

/** Target tables: each mapping's `to`, or the same table name in target.schema for unmapped tables. */
export function targetTables(connector: Connector): string[] {
  return [...buildMappingPlan(connector).byTarget.keys()];
}

/** Every mapping prepared against the live target, as translate does before it starts. */
async function checkMappingsFit(connector: Connector): Promise<CheckResult[]> {
  let problems: MappingProblem[];
  try {
    problems = await checkMappings(connector);
  } catch (error) {
    return [fail('mappings', describeError(error).split('\n')[0]!, 'fix the connection problem reported above, then run doctor again')];
  }
  if (problems.length === 0) return [ok('mappings', 'every mapping prepares against the target tables')];
  return problems.map((problem) => fail(`mapping ${problem.path}`, problem.message, problem.fix));
}

async function checkTarget(connector: Connector): Promise<CheckResult[]> {
  let client: pg.Client;
  try {
    client = await connectClient(connector.target.url, 'target');
  } catch (error) {
    return [fail('target reachable', describeError(error).split('\n')[0]!, 'check target.url and that the server is running')];
  }
  try {
    const results = [ok('target reachable', describeUrl(connector.target.url))];
    for (const table of targetTables(connector)) {
      results.push(
        (await tableExists(client, table))
          ? ok(`target table ${table}`, 'exists')
          : fail(`target table ${table}`, `target table ${table} does not exist`, `create it in the new schema (or set mappings[...].to to an existing table)`),
      );
    }
    return results;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Translate marks what it applies with a replication origin (so capture does not echo it back):
 * on the target, and on legacy too when rollout.reverse makes the reverse translate apply there.
 */
export async function checkReplicationOrigins(connector: Connector): Promise<CheckResult[]> {
  const databases = [{ check: 'replication origin (target)', url: connector.target.url, role: 'target' }];
  if (Object.keys(connector.rollout.reverse).length > 0) databases.push({ check: 'replication origin (legacy, reverse sync)', url: connector.source.url, role: 'source' });
  const results: CheckResult[] = [];
  for (const { check, url, role: which } of databases) {
    let client: pg.Client;
    try {
      client = await connectClient(url, which);
    } catch {
      continue; // reported by the reachability check of that database
    }
    try {
      const { rows } = await client.query<{ role: string; missing: string[] }>(
        `SELECT current_user AS role, array(SELECT fn FROM unnest($1::text[]) fn WHERE NOT has_function_privilege(fn, 'EXECUTE')) AS missing`,
        [REPLICATION_ORIGIN_FUNCTIONS],
      );
      const { role, missing } = rows[0]!;
      results.push(
        missing.length === 0
          ? ok(check, `role ${role} may use replication origins on ${describeUrl(url)}`)
          : fail(check, `role ${role} may not execute ${missing.join(', ')} on ${describeUrl(url)}; translate needs them to mark what it applies so that capture does not send it back`, `as a superuser on that database: ${originGrantStatements(role)}`),
      );
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return results;
}

async function checkKafka(connector: Connector, logger: Logger): Promise<CheckResult> {
  const check = 'kafka brokers reachable';
  const kafka = createKafka(connector.kafka, logger.child({}, { level: 'silent' }), {
    connectionTimeout: 3000,
    requestTimeout: 5000,
    retry: { retries: 1, initialRetryTime: 200 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return ok(check, `${cluster.brokers.length} broker(s) via ${connector.kafka.brokers.join(',')}`);
  } catch (error) {
    return fail(check, `cannot reach ${connector.kafka.brokers.join(',')}: ${(error as Error).message}`, 'check kafka.brokers (host:port), TLS/SASL settings, and that the brokers are running (tandem broker for local runs)');
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function checkRegistry(connector: Connector): Promise<CheckResult> {
  const check = 'schema registry reachable';
  const api = new RegistryApi(connector.registry);
  try {
    return ok(check, `${api.location} (compatibility ${await api.globalCompatibilityLevel()})`);
  } catch (error) {
    const fix = error instanceof TandemError && error.fix ? error.fix : 'check registry.url and that the registry is running (tandem registry for local runs)';
    return fail(check, (error as Error).message, fix);
  }
}

export function doctorFailed(results: CheckResult[]): boolean {
  return results.some((result) => result.status === 'fail');
}
