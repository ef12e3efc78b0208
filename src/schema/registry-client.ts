/**
 * The registry as capture uses it: a thin wrapper around @kafkajs/confluent-schema-registry.
 *
 * - `register` names the subject explicitly (TopicNameStrategy: `<topic>-key`, `<topic>-value`) and
 *   first checks the schema against the subject's versions with tandem's own compatibility engine,
 *   so an incompatible change fails with the exact reasons (`after.email: field removed without a
 *   default, breaks FORWARD`) rather than a bare 409, whichever registry is behind the URL.
 * - `encode`/`decode` use the Confluent wire format and tandem's avsc types (bigint longs, exact
 *   decimals).
 */
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { TandemError } from '../errors.js';
import { parseAvroSchemaText, type AvroSchemaJson } from './avro-schema.js';
import { avroTypeOptions } from './avro-type.js';
import { checkCompatibility, formatIncompatibility } from './compatibility.js';
import { RegistryApi, type RegistryConnection } from './registry-api.js';

export interface RegistryClient {
  /** Registers the schema under the subject (same schema again → same id) and returns its id. */
  register(subject: string, schema: AvroSchemaJson | object): Promise<number>;
  /** Confluent wire format: 0x00, 4-byte big-endian schema id, Avro binary. */
  encode(schemaId: number, value: unknown): Promise<Buffer>;
  decode(message: Buffer): Promise<unknown>;
}

export function createRegistryClient(connection: RegistryConnection): RegistryClient {
  const api = new RegistryApi(connection);
  const registry = new SchemaRegistry(
    { host: api.location, auth: connection.auth ?? credentialsOf(connection.url), retry: { retries: 2 } },
    { [SchemaType.AVRO]: avroTypeOptions() },
  );
  const registered = new Map<string, number>();

  return {
    async register(subject, schema) {
      const text = JSON.stringify(schema);
      const cacheKey = `${subject}\u0000${text}`;
      const known = registered.get(cacheKey);
      if (known !== undefined) return known;

      const candidate = parseAvroSchemaText(text);
      const versions = await api.subjectVersions(subject);
      const mode = await api.compatibilityLevel(subject);
      // A schema already registered under the subject is answered with its id, whatever the mode says now.
      const alreadyRegistered = versions.some((version) => JSON.stringify(JSON.parse(version.schema)) === text);
      const previous = versions.map((version) => ({ label: `version ${version.version}`, schema: parseAvroSchemaText(version.schema) }));
      const problems = alreadyRegistered ? [] : checkCompatibility(candidate, previous, mode);
      if (problems.length > 0) {
        throw new TandemError(`schema for ${subject} is incompatible with the registered versions:\n${problems.map((problem) => `  ${formatIncompatibility(subject, problem)}`).join('\n')}`, {
          fix: `change the table compatibly (new columns nullable or with a default), or relax the subject's compatibility (PUT ${api.location}/config/${subject})`,
        });
      }
      try {
        const { id } = await registry.register({ type: SchemaType.AVRO, schema: text }, { subject, compatibility: COMPATIBILITY[mode] });
        registered.set(cacheKey, id);
        return id;
      } catch (error) {
        throw new TandemError(`schema registry ${api.location} refused the schema for ${subject}: ${(error as Error).message}`, {
          fix: 'read the reason above; the registry may check compatibility differently from tandem',
          cause: error,
        });
      }
    },
    encode: (schemaId, value) => registry.encode(schemaId, value),
    decode: (message) => registry.decode(message),
  };
}

function credentialsOf(url: string): { username: string; password: string } | undefined {
  const parsed = new URL(url);
  return parsed.username ? { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) } : undefined;
}
