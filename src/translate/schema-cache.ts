/**
 * Writer schemas by registry id, fetched once each: the avsc type (tandem's bigint longs and exact
 * decimals) and, for change event envelopes, the row's fields with their text converters.
 */
import type { Type } from 'avsc';
import { TandemError } from '../errors.js';
import type { Connector } from '../config/index.js';
import { createAvroType } from '../schema/avro-type.js';
import { stagingTypeOfAvro, textConverterOf, type TextConverter } from './pg-text.js';

export interface RowField {
  /** Avro field name (the column name for plain identifiers). */
  name: string;
  /** Staging type derived from the Avro type, for columns the legacy catalog does not know. */
  avroStagingType: string;
  toText: TextConverter;
}

export interface WriterSchema {
  id: number;
  type: Type;
  /** Envelope schemas: the fields of before/after. Key schemas: the key fields. */
  fields: readonly RowField[];
}

export class SchemaCache {
  private readonly byId = new Map<number, Promise<WriterSchema>>();
  private readonly baseUrl: string;
  private readonly authorization?: string;

  constructor(registry: Connector['registry']) {
    const url = new URL(registry.url);
    const username = registry.auth?.username ?? decodeURIComponent(url.username);
    const password = registry.auth?.password ?? decodeURIComponent(url.password);
    url.username = '';
    url.password = '';
    this.baseUrl = url.toString().replace(/\/$/, '');
    if (username) this.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }

  get(id: number): Promise<WriterSchema> {
    let schema = this.byId.get(id);
    if (!schema) {
      schema = this.fetch(id);
      this.byId.set(id, schema);
      // A failed fetch (registry down) is retried next time rather than cached.
      schema.catch(() => this.byId.delete(id));
    }
    return schema;
  }

  private async fetch(id: number): Promise<WriterSchema> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/schemas/ids/${id}`, { headers: this.authorization ? { authorization: this.authorization } : {} });
    } catch (error) {
      throw Object.assign(new TandemError(`schema registry ${this.baseUrl} is unreachable (${(error as Error).message})`, { fix: 'check registry.url and that the registry is running' }), { transient: true });
    }
    if (response.status === 404) throw new TandemError(`schema id ${id} is not in the registry at ${this.baseUrl}`, { fix: 'the message was written against another registry; route it to the dead-letter topic' });
    if (!response.ok) throw Object.assign(new TandemError(`schema registry ${this.baseUrl} answered ${response.status} for schema id ${id}`, { fix: 'check the registry log' }), { transient: response.status >= 500 });
    const body = (await response.json()) as { schema: string };
    const json = JSON.parse(body.schema) as { type: string; fields?: { name: string; type: unknown }[] };
    const type = createAvroType(json as never);
    const envelopeRow = json.fields?.find((field) => field.name === 'before');
    const rowRecord = envelopeRow ? (envelopeRow.type as unknown[]).find((branch) => branch !== 'null') as { fields: { name: string; type: unknown }[] } : json;
    const fields = (rowRecord.fields ?? []).map((field) => ({ name: field.name, avroStagingType: stagingTypeOfAvro(field.type as never), toText: textConverterOf(field.type as never) }));
    return { id, type, fields };
  }
}
