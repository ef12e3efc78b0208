import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../../../src/embedded/registry/index.js';
import { avroTypeOptions } from '../../../src/schema/avro-type.js';
import { createRegistryClient } from '../../../src/schema/registry-client.js';
import { spawnTandem, type TandemProcess } from '../../support/process.js';

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

const customerV1 = {
  type: 'record',
  name: 'Value',
  namespace: 'shop.legacy.customers',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'email', type: 'string' },
  ],
};
const customerV2 = { ...customerV1, fields: [...customerV1.fields, { name: 'nickname', type: ['null', 'string'], default: null }] };
const customerWithoutEmail = { ...customerV1, fields: [{ name: 'id', type: 'long' }] };

async function call(registry: RunningRegistry, method: string, urlPath: string, body?: unknown): Promise<{ status: number; contentType: string | null; body: any }> {
  const response = await fetch(`${registry.url}${urlPath}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': CONTENT_TYPE },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // a raw schema endpoint may answer plain text
  }
  return { status: response.status, contentType: response.headers.get('content-type'), body: parsed };
}

const register = (registry: RunningRegistry, subject: string, schema: object) => call(registry, 'POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(schema) });

describe('embedded schema registry', () => {
  let registry: RunningRegistry;

  beforeAll(async () => {
    registry = await startRegistry({ port: 0, dataDir: mkdtempSync(path.join(tmpdir(), 'tandem-registry-')) });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  describe('with the real @kafkajs/confluent-schema-registry client', () => {
    const client = () => new SchemaRegistry({ host: registry.url }, { [SchemaType.AVRO]: avroTypeOptions() });

    it('registers under an explicit subject, encodes and decodes in the Confluent wire format', async () => {
      const { id } = await client().register({ type: SchemaType.AVRO, schema: JSON.stringify(customerV1) }, { subject: 'shop.legacy.customers-value' });
      const encoded = await client().encode(id, { id: 9007199254740993n, email: 'ada@example.com' });
      expect(encoded[0]).toBe(0);
      expect(encoded.readInt32BE(1)).toBe(id);
      const decoded = await client().decode(encoded);
      expect({ ...decoded }).toEqual({ id: 9007199254740993n, email: 'ada@example.com' });
    });

    it('gives the same schema the same id, in the same subject and in another', async () => {
      const first = await client().register({ type: SchemaType.AVRO, schema: JSON.stringify(customerV1) }, { subject: 'shop.legacy.customers-value' });
      const again = await client().register({ type: SchemaType.AVRO, schema: JSON.stringify(customerV1, null, 2) }, { subject: 'shop.legacy.customers-value' });
      const elsewhere = await client().register({ type: SchemaType.AVRO, schema: JSON.stringify(customerV1) }, { subject: 'copy-value' });
      expect(again.id).toBe(first.id);
      expect(elsewhere.id).toBe(first.id);
      expect((await call(registry, 'GET', '/subjects/shop.legacy.customers-value/versions')).body).toEqual([1]);
    });

    it('refuses an incompatible schema with 409 and the reason', async () => {
      await call(registry, 'PUT', '/config/orders-value', { compatibility: 'FORWARD' });
      await register(registry, 'orders-value', customerV1);
      const refusal = client().register({ type: SchemaType.AVRO, schema: JSON.stringify(customerWithoutEmail) }, { subject: 'orders-value', compatibility: 'FORWARD' as never });
      await expect(refusal).rejects.toMatchObject({ status: 409, message: expect.stringContaining('orders-value: email: field removed without a default, breaks FORWARD') });
    });
  });

  describe("tandem's registry client wrapper", () => {
    it('registers, encodes with exact decimals and longs, and decodes', async () => {
      const wrapper = createRegistryClient({ url: registry.url });
      const schema = { type: 'record', name: 'Payment', fields: [{ name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 20, scale: 2 } }, { name: 'ref', type: 'long' }] };
      const id = await wrapper.register('payments-value', schema);
      expect(await wrapper.register('payments-value', schema)).toBe(id);
      const decoded = (await wrapper.decode(await wrapper.encode(id, { amount: '123456789012345678.90', ref: 2n ** 62n }))) as Record<string, unknown>;
      expect({ ...decoded }).toEqual({ amount: '123456789012345678.90', ref: 2n ** 62n });
    });

    it('explains an incompatible change with our reasons before the registry is asked', async () => {
      const wrapper = createRegistryClient({ url: registry.url });
      await call(registry, 'PUT', '/config/invoices-value', { compatibility: 'FULL' });
      const first = await wrapper.register('invoices-value', customerV1);
      await expect(wrapper.register('invoices-value', customerWithoutEmail)).rejects.toThrow('invoices-value: email: field removed without a default, breaks FULL');
      // A schema the subject already has keeps its id, from a fresh client too.
      expect(await createRegistryClient({ url: registry.url }).register('invoices-value', customerV1)).toBe(first);
    });
  });

  describe('REST API', () => {
    it('answers with the Confluent content type', async () => {
      const response = await call(registry, 'GET', '/subjects');
      expect(response.status).toBe(200);
      expect(response.contentType).toBe(CONTENT_TYPE);
    });

    it('lists subjects, versions and a version by number or latest', async () => {
      await register(registry, 'people-value', customerV1);
      const second = await register(registry, 'people-value', customerV2);
      expect((await call(registry, 'GET', '/subjects')).body).toContain('people-value');
      expect((await call(registry, 'GET', '/subjects/people-value/versions')).body).toEqual([1, 2]);
      const latest = await call(registry, 'GET', '/subjects/people-value/versions/latest');
      expect(latest.body).toEqual({ subject: 'people-value', version: 2, id: second.body.id, schema: JSON.stringify(customerV2) });
      expect((await call(registry, 'GET', '/subjects/people-value/versions/1')).body.version).toBe(1);
      expect((await call(registry, 'GET', '/subjects/people-value/versions/2/schema')).body).toEqual(customerV2);
    });

    it('finds schemas by id and the subjects that use them', async () => {
      const { body } = await register(registry, 'ids-value', customerV1);
      expect((await call(registry, 'GET', `/schemas/ids/${body.id}`)).body).toEqual({ schema: JSON.stringify(customerV1) });
      expect((await call(registry, 'GET', `/schemas/ids/${body.id}/versions`)).body).toContainEqual({ subject: 'ids-value', version: 1 });
    });

    it('looks a schema up under a subject', async () => {
      const { body } = await register(registry, 'lookup-value', customerV1);
      expect((await call(registry, 'POST', '/subjects/lookup-value', { schema: JSON.stringify(customerV1) })).body).toEqual({
        subject: 'lookup-value',
        version: 1,
        id: body.id,
        schema: JSON.stringify(customerV1),
      });
      expect(await call(registry, 'POST', '/subjects/lookup-value', { schema: JSON.stringify(customerV2) })).toMatchObject({ status: 404, body: { error_code: 40403 } });
    });

    it('reports missing subjects, versions and schemas with their error codes', async () => {
      expect(await call(registry, 'GET', '/subjects/nobody-value/versions')).toMatchObject({ status: 404, body: { error_code: 40401, message: "Subject 'nobody-value' not found." } });
      await register(registry, 'one-value', customerV1);
      expect(await call(registry, 'GET', '/subjects/one-value/versions/7')).toMatchObject({ status: 404, body: { error_code: 40402, message: 'Version 7 not found.' } });
      expect(await call(registry, 'GET', '/subjects/one-value/versions/-3')).toMatchObject({ status: 422, body: { error_code: 42202 } });
      expect(await call(registry, 'GET', '/schemas/ids/9999')).toMatchObject({ status: 404, body: { error_code: 40403, message: 'Schema 9999 not found' } });
    });

    it('refuses an invalid schema with 42201 and says why', async () => {
      const unknownType = await call(registry, 'POST', '/subjects/bad-value/versions', { schema: JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'Adress' }] }) });
      expect(unknownType).toMatchObject({ status: 422, body: { error_code: 42201, message: 'Invalid schema: a: unknown type "Adress" (defined so far: R)' } });
      const malformed = await call(registry, 'POST', '/subjects/bad-value/versions', { schema: '{"type": "record",' });
      expect(malformed.body.message).toMatch(/^Invalid schema: invalid JSON at line 1, column \d+/);
    });

    it('refuses incompatible registrations with 409 and checks compatibility verbosely on request', async () => {
      await register(registry, 'strict-value', customerV1);
      const added = { ...customerV1, fields: [...customerV1.fields, { name: 'phone', type: 'string' }] };
      expect(await register(registry, 'strict-value', added)).toMatchObject({
        status: 409,
        body: { error_code: 409, message: expect.stringContaining('strict-value: phone: field added without a default, breaks BACKWARD') },
      });
      expect((await call(registry, 'POST', '/compatibility/subjects/strict-value/versions/latest', { schema: JSON.stringify(added) })).body).toEqual({ is_compatible: false });
      expect((await call(registry, 'POST', '/compatibility/subjects/strict-value/versions/latest?verbose=true', { schema: JSON.stringify(added) })).body).toEqual({
        is_compatible: false,
        messages: ['strict-value: phone: field added without a default, breaks BACKWARD'],
      });
      expect((await call(registry, 'POST', '/compatibility/subjects/strict-value/versions/1', { schema: JSON.stringify(customerV2) })).body).toEqual({ is_compatible: true });
      expect((await call(registry, 'POST', '/compatibility/subjects/strict-value/versions', { schema: JSON.stringify(added) })).body).toEqual({ is_compatible: false });
    });

    it('soft-deletes, then permanently deletes, versions and subjects', async () => {
      await register(registry, 'gone-value', customerV1);
      await register(registry, 'gone-value', customerV2);
      expect(await call(registry, 'DELETE', '/subjects/gone-value/versions/1?permanent=true')).toMatchObject({ status: 404, body: { error_code: 40407 } });
      expect((await call(registry, 'DELETE', '/subjects/gone-value/versions/1')).body).toBe(1);
      expect((await call(registry, 'GET', '/subjects/gone-value/versions')).body).toEqual([2]);
      expect((await call(registry, 'GET', '/subjects/gone-value/versions?deleted=true')).body).toEqual([1, 2]);
      expect(await call(registry, 'DELETE', '/subjects/gone-value?permanent=true')).toMatchObject({ status: 404, body: { error_code: 40405 } });
      expect((await call(registry, 'DELETE', '/subjects/gone-value')).body).toEqual([2]);
      expect((await call(registry, 'GET', '/subjects')).body).not.toContain('gone-value');
      expect((await call(registry, 'GET', '/subjects?deleted=true')).body).toContain('gone-value');
      expect((await call(registry, 'DELETE', '/subjects/gone-value?permanent=true')).body).toEqual([1, 2]);
      expect(await call(registry, 'GET', '/subjects/gone-value/versions?deleted=true')).toMatchObject({ status: 404, body: { error_code: 40401 } });
    });

    it('reads and sets the global and per-subject compatibility', async () => {
      expect((await call(registry, 'GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
      expect(await call(registry, 'GET', '/config/unset-value')).toMatchObject({ status: 404, body: { error_code: 40408 } });
      expect((await call(registry, 'GET', '/config/unset-value?defaultToGlobal=true')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
      expect((await call(registry, 'PUT', '/config/unset-value', { compatibility: 'full_transitive' })).body).toEqual({ compatibility: 'FULL_TRANSITIVE' });
      expect((await call(registry, 'GET', '/config/unset-value')).body).toEqual({ compatibilityLevel: 'FULL_TRANSITIVE' });
      expect(await call(registry, 'PUT', '/config', { compatibility: 'SIDEWAYS' })).toMatchObject({ status: 422, body: { error_code: 42203 } });
    });
  });

  it('requires basic auth when configured', async () => {
    const secured = await startRegistry({ port: 0, dataDir: mkdtempSync(path.join(tmpdir(), 'tandem-registry-auth-')), basicAuth: 'ci:s3cret' });
    try {
      const anonymous = await fetch(`${secured.url}/subjects`);
      expect(anonymous.status).toBe(401);
      expect(await anonymous.json()).toEqual({ error_code: 401, message: 'Unauthorized' });
      const client = new SchemaRegistry({ host: secured.url, auth: { username: 'ci', password: 's3cret' } });
      const { id } = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(customerV1) }, { subject: 'auth-value' });
      expect(id).toBe(1);
    } finally {
      await secured.stop();
    }
  });
});

describe('registry process', () => {
  const children: TandemProcess[] = [];

  afterAll(() => {
    for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  /** `tandem registry --port 0 --data-dir DIR` (bin/tandem.js) as a child process, once it is listening. */
  async function launch(dataDir: string): Promise<TandemProcess & { url: string }> {
    const registry = spawnTandem(['registry', '--port', '0', '--data-dir', dataDir]);
    children.push(registry);
    const ready = await registry.waitForOutput(/listening on http:\/\/[\d.:]+/);
    return { ...registry, url: ready.slice('listening on '.length) };
  }

  it('keeps ids and versions after being killed with SIGKILL and restarted on the same data dir', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'tandem-registry-crash-'));
    const first = await launch(dataDir);
    const client = new SchemaRegistry({ host: first.url });
    const v1 = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(customerV1) }, { subject: 'crash-value' });
    const v2 = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(customerV2) }, { subject: 'crash-value' });
    const other = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify({ type: 'record', name: 'Key', fields: [{ name: 'id', type: 'long' }] }) }, { subject: 'crash-key' });

    first.child.kill('SIGKILL');
    await first.exited;

    const second = await launch(dataDir);
    const latest = await fetch(`${second.url}/subjects/crash-value/versions/latest`).then((response) => response.json());
    expect(latest).toMatchObject({ version: 2, id: v2.id });
    expect(await fetch(`${second.url}/schemas/ids/${v1.id}`).then((response) => response.json())).toEqual({ schema: JSON.stringify(customerV1) });
    const again = await new SchemaRegistry({ host: second.url }).register({ type: SchemaType.AVRO, schema: JSON.stringify({ type: 'record', name: 'Key', fields: [{ name: 'id', type: 'long' }] }) }, { subject: 'crash-key' });
    expect(again.id).toBe(other.id);
    const fresh = await new SchemaRegistry({ host: second.url }).register({ type: SchemaType.AVRO, schema: JSON.stringify({ type: 'record', name: 'Other', fields: [] }) }, { subject: 'new-value' });
    expect(fresh.id).toBe(Math.max(v1.id, v2.id, other.id) + 1);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
