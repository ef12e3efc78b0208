import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../../../src/embedded/registry/index.js';
import { createAvroType } from '../../../src/schema/avro-type.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { runTandem } from '../../support/cli.js';

const VALUE_FILE = 'schemas/shop.legacy.customers-value.avsc';
const KEY_FILE = 'schemas/shop.legacy.customers-key.avsc';

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', args, { cwd, stdio: 'ignore' });
}

function rowFields(valueFile: string): Record<string, unknown> {
  const envelope = JSON.parse(readFileSync(valueFile, 'utf8'));
  const row = envelope.fields.find((field: { name: string }) => field.name === 'before').type[1];
  return Object.fromEntries(row.fields.map((field: { name: string; type: unknown }) => [field.name, field.type]));
}

describe('tandem schemas generate and check', () => {
  let db: TestDatabase;
  let project: string;
  let registry: RunningRegistry;
  const tandem = (...args: string[]) => runTandem(args, { cwd: project });

  beforeAll(async () => {
    db = await createTestDatabase('schemas');
    await db.sql(`
      CREATE SCHEMA legacy;
      CREATE TYPE legacy.mood AS ENUM ('sad', 'ok', 'happy');
      CREATE DOMAIN legacy.email_address AS varchar(320) CHECK (VALUE LIKE '%@%');
      CREATE DOMAIN legacy.money_amount AS numeric(12,2) NOT NULL;
      CREATE TABLE legacy.customers (
        id bigint PRIMARY KEY,
        small smallint,
        visits integer NOT NULL,
        amount numeric(10,2),
        ratio numeric,
        weight real,
        score double precision,
        active boolean,
        name text NOT NULL,
        code varchar(8),
        grade char(2),
        born date,
        opens time,
        created timestamp,
        updated timestamptz,
        trial interval,
        token uuid,
        profile jsonb,
        settings json,
        avatar bytea,
        mood legacy.mood,
        tags text[],
        ratings numeric(5,1)[],
        email legacy.email_address,
        balance legacy.money_amount,
        location point
      );`);
    project = mkdtempSync(path.join(tmpdir(), 'tandem-schemas-'));
    writeFileSync(
      path.join(project, 'shop.ts'),
      `export default {
        name: 'shop',
        source: { url: ${JSON.stringify(db.url)}, schema: 'legacy', tables: ['customers'] },
        kafka: { brokers: ['127.0.0.1:9092'], topicPrefix: 'shop' },
        registry: { url: 'http://127.0.0.1:8081' },
        target: { url: ${JSON.stringify(db.url)}, schema: 'app' },
      };\n`,
    );
    git(project, 'init', '--quiet');
    git(project, 'config', 'user.email', 'ci@example.com');
    git(project, 'config', 'user.name', 'CI');
    registry = await startRegistry({ port: 0, dataDir: path.join(project, '.registry') });
  });

  afterAll(async () => {
    await registry?.stop();
  });

  it('writes the key and value schemas of every table, mapping each type', async () => {
    const result = await tandem('schemas', 'generate', '--config', 'shop.ts');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`wrote ${KEY_FILE}`);
    expect(result.stdout).toContain(`wrote ${VALUE_FILE}`);
    expect(result.stderr).toContain('warning: column legacy.customers.location has type point, which tandem does not map');

    expect(JSON.parse(readFileSync(path.join(project, KEY_FILE), 'utf8'))).toEqual({ type: 'record', name: 'Key', namespace: 'shop.legacy.customers', fields: [{ name: 'id', type: 'long' }] });
    const nullable = (type: unknown) => ['null', type];
    expect(rowFields(path.join(project, VALUE_FILE))).toEqual({
      id: 'long',
      small: nullable('int'),
      visits: 'int',
      amount: nullable({ type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 }),
      ratio: nullable('string'),
      weight: nullable('float'),
      score: nullable('double'),
      active: nullable('boolean'),
      name: 'string',
      code: nullable('string'),
      grade: nullable('string'),
      born: nullable({ type: 'int', logicalType: 'date' }),
      opens: nullable({ type: 'long', logicalType: 'time-micros' }),
      created: nullable({ type: 'long', logicalType: 'local-timestamp-micros' }),
      updated: nullable('string'),
      trial: nullable('string'),
      token: nullable({ type: 'string', logicalType: 'uuid' }),
      profile: nullable('string'),
      settings: nullable('string'),
      avatar: nullable('bytes'),
      mood: nullable({ type: 'string', allowed: ['sad', 'ok', 'happy'] }),
      tags: nullable({ type: 'array', items: ['null', 'string'] }),
      ratings: nullable({ type: 'array', items: ['null', { type: 'bytes', logicalType: 'decimal', precision: 5, scale: 1 }] }),
      email: nullable('string'),
      balance: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 },
      location: nullable('string'),
    });
    expect(() => createAvroType(JSON.parse(readFileSync(path.join(project, VALUE_FILE), 'utf8')))).not.toThrow();
  });

  it('passes the check against git HEAD once committed', async () => {
    git(project, 'add', 'schemas');
    git(project, 'commit', '--quiet', '-m', 'schemas');
    const result = await tandem('schemas', 'check');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('shop.legacy.customers-key: ok (BACKWARD against git:HEAD)\nshop.legacy.customers-value: ok (BACKWARD against git:HEAD)\n');
  });

  it('reports drift between the database and the committed files with --live', async () => {
    await db.sql('ALTER TABLE legacy.customers DROP COLUMN name');
    const result = await tandem('schemas', 'check', '--live', '--config', 'shop.ts');
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toContain('shop.legacy.customers-value: drift: before.name: is in the schema file but no longer in the database');
    expect(result.stdout).toContain('shop.legacy.customers-key: matches the database');
    expect(result.stderr).toContain('schemas check: 1 subject drifted from the database');
  });

  it('reports a dropped NOT NULL column as a FORWARD break with its path, exit 2', async () => {
    const old = mkdtempSync(path.join(tmpdir(), 'tandem-old-schemas-'));
    cpSync(path.join(project, 'schemas'), old, { recursive: true });
    expect((await tandem('schemas', 'generate', '--config', 'shop.ts')).code).toBe(0);

    const result = await tandem('schemas', 'check', '--mode', 'FORWARD');
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout.split('\n')).toEqual([
      'shop.legacy.customers-key: ok (FORWARD against git:HEAD)',
      'shop.legacy.customers-value: before.name: field removed without a default, breaks FORWARD',
      'shop.legacy.customers-value: after.name: field removed without a default, breaks FORWARD',
      '',
    ]);
    expect(result.stderr).toContain('error: schemas check: 1 of 2 subjects incompatible with git:HEAD');

    // BACKWARD is fine: the new schema simply ignores the old field.
    expect((await tandem('schemas', 'check', '--mode', 'backward')).code).toBe(0);
    // The same verdict against a directory of the previous files.
    const againstDir = await tandem('schemas', 'check', '--mode', 'FULL', '--against', `dir:${old}`);
    expect(againstDir.code).toBe(2);
    expect(againstDir.stdout).toContain('shop.legacy.customers-value: after.name: field removed without a default, breaks FULL');
  });

  it('annotates the break for GitHub Actions and reports it as JSON', async () => {
    const github = await tandem('schemas', 'check', '--mode', 'FORWARD', '--format', 'github');
    expect(github.code).toBe(2);
    expect(github.stdout).toMatch(/^::error file=schemas\/shop\.legacy\.customers-value\.avsc,line=\d+,title=shop\.legacy\.customers-value breaks FORWARD::after\.name: field removed without a default, breaks FORWARD$/m);

    const json = await tandem('schemas', 'check', '--mode', 'FORWARD', '--format', 'json');
    const report = JSON.parse(json.stdout);
    expect(report.ok).toBe(false);
    expect(report.subjects[1]).toMatchObject({ subject: 'shop.legacy.customers-value', status: 'incompatible', mode: 'FORWARD' });
    expect(report.subjects[1].incompatibilities[1]).toMatchObject({ path: 'after.name', reason: 'field removed without a default', against: 'HEAD' });
  });

  it("checks against a registry's versions under the subject's compatibility level", async () => {
    const committed = (file: string) => execFileSync('git', ['show', `HEAD:${file}`], { cwd: project, encoding: 'utf8' });
    for (const [subject, file] of [['shop.legacy.customers-key', KEY_FILE], ['shop.legacy.customers-value', VALUE_FILE]]) {
      await fetch(`${registry.url}/subjects/${subject}/versions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ schema: committed(file!) }) });
    }
    await fetch(`${registry.url}/config/shop.legacy.customers-value`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ compatibility: 'FULL_TRANSITIVE' }) });

    const result = await tandem('schemas', 'check', '--against', `registry:${registry.url}`);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('shop.legacy.customers-key: ok (BACKWARD against registry:');
    expect(result.stdout).toContain('shop.legacy.customers-value: after.name: field removed without a default, breaks FULL_TRANSITIVE (against version 1)');
  });
});

describe('tandem schemas check on bad input', () => {
  const project = mkdtempSync(path.join(tmpdir(), 'tandem-bad-schemas-'));
  const tandem = (...args: string[]) => runTandem(args, { cwd: project });
  const write = (name: string, text: string) => {
    mkdirSync(path.join(project, 'schemas'), { recursive: true });
    writeFileSync(path.join(project, 'schemas', name), text);
  };

  it('names the file, line and column of malformed JSON in one line, exit 1', async () => {
    write('broken-value.avsc', '{\n  "type": "record",\n  "name": "Broken"\n  "fields": []\n}\n');
    const result = await tandem('schemas', 'check', '--against', `dir:${project}`);
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')[0]).toMatch(/^error: schemas\/broken-value\.avsc: invalid JSON at line 4, column 3: /);
  });

  it('names a reference to an unknown type with its path', async () => {
    write('broken-value.avsc', JSON.stringify({ type: 'record', name: 'Order', fields: [{ name: 'shipping', type: ['null', 'Adress'], default: null }] }));
    const result = await tandem('schemas', 'check', '--against', `dir:${project}`);
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')[0]).toBe('error: schemas/broken-value.avsc: shipping: unknown type "Adress" (defined so far: Order)');
  });

  it('refuses an unknown compatibility mode and an unknown version source in one line', async () => {
    write('broken-value.avsc', JSON.stringify({ type: 'record', name: 'Order', fields: [] }));
    const mode = await tandem('schemas', 'check', '--mode', 'SIDEWAYS');
    expect(mode.code).toBe(1);
    expect(mode.stderr.split('\n')[0]).toBe('error: unknown compatibility mode "SIDEWAYS"');
    const against = await tandem('schemas', 'check', '--against', 'svn:trunk');
    expect(against.stderr.split('\n')[0]).toBe('error: --against svn:trunk is not a version source');
  });
});
