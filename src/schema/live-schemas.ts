/**
 * The schemas a connector's tables have now: read from the source database's catalog and derived
 * exactly as capture derives them. Used by `schemas generate` and `schemas check --live`.
 */
import path from 'node:path';
import type { Connector } from '../config/index.js';
import { connectClient } from '../pg/connect.js';
import { splitQualified } from '../pg/identifiers.js';
import { parseAvroSchema, type AvroRecordJson } from './avro-schema.js';
import { readTableDefinition } from './catalog-reader.js';
import type { DriftVerdict } from './check.js';
import { deriveSchemas } from './derive.js';
import { findDrift } from './drift.js';
import type { SchemaFile } from './schema-files.js';

export interface LiveSubject {
  /** `<topic>-key` or `<topic>-value`. */
  subject: string;
  /** `schema.table` */
  table: string;
  schema: AvroRecordJson;
}

export async function deriveConnectorSchemas(connector: Connector): Promise<{ subjects: LiveSubject[]; warnings: string[] }> {
  const client = await connectClient(connector.source.url, 'source');
  const subjects: LiveSubject[] = [];
  const warnings: string[] = [];
  try {
    for (const table of connector.source.tables) {
      const { schema, table: name } = splitQualified(table);
      const derived = deriveSchemas(await readTableDefinition(client, schema, name), { topicPrefix: connector.kafka.topicPrefix });
      subjects.push({ subject: `${derived.topic}-key`, table, schema: derived.keySchema }, { subject: `${derived.topic}-value`, table, schema: derived.valueSchema });
      warnings.push(...derived.warnings);
    }
  } finally {
    await client.end();
  }
  return { subjects, warnings };
}

/** Each live subject against its schema file; a missing file is drift too. */
export function driftAgainstFiles(live: LiveSubject[], files: SchemaFile[], dir: string): DriftVerdict[] {
  return live.map((subject) => {
    const file = files.find((candidate) => candidate.subject === subject.subject);
    if (!file) {
      return { subject: subject.subject, file: path.join(dir, `${subject.subject}.avsc`), drift: [{ path: '', description: `no schema file for table ${subject.table} (run tandem schemas generate)` }] };
    }
    const drift = findDrift(file.schema, parseAvroSchema(subject.schema));
    // Same structure but other attributes (enum labels in "allowed", docs): still not what capture registers.
    if (drift.length === 0 && JSON.stringify(JSON.parse(file.text)) !== JSON.stringify(subject.schema)) {
      drift.push({ path: '', description: 'differs from the schema derived from the table in attributes (enum labels, docs)' });
    }
    return { subject: subject.subject, file: file.file, drift };
  });
}
