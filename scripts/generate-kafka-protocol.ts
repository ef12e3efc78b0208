/**
 * Generates src/embedded/broker/protocol/generated/*.ts from the Apache Kafka JSON message specs.
 *
 *   npx tsx scripts/generate-kafka-protocol.ts [specDir]
 *
 * specDir defaults to ../shared/kafka-protocol/messages (relative to the repository root). The specs
 * are only read here: the generated modules are committed, so the broker never reads them at runtime.
 * Each schema is trimmed to the versions the broker serves (see SERVED_APIS) and comes with the
 * TypeScript types of its decoded body.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

type Range = [number, number];

interface ServedApi {
  /** Module and API name, e.g. `produce` → `Produce`. */
  readonly module: string;
  readonly apiKey: number;
  readonly versions: Range;
  /** Versions we accept beyond a spec file's validVersions, with the reason. */
  readonly extendSpecVersions?: { readonly request?: Range; readonly response?: Range; readonly why: string };
}

/**
 * What the broker serves. Each range lies inside the overlap of the request and response spec files
 * (see ../shared/kafka-protocol/README.md beside the repository) and covers every version kafkajs 2.2.4 sends, plus the
 * higher ones librdkafka negotiates to.
 */
const SERVED_APIS: readonly ServedApi[] = [
  { module: 'produce', apiKey: 0, versions: [0, 8] },
  { module: 'fetch', apiKey: 1, versions: [0, 11] },
  { module: 'listOffsets', apiKey: 2, versions: [0, 8] },
  { module: 'metadata', apiKey: 3, versions: [0, 9] },
  // v9 in these files is a trunk development version (TopicId), not the released KIP-848 v9.
  { module: 'offsetCommit', apiKey: 8, versions: [0, 8] },
  { module: 'offsetFetch', apiKey: 9, versions: [0, 8] },
  { module: 'findCoordinator', apiKey: 10, versions: [0, 2] },
  { module: 'joinGroup', apiKey: 11, versions: [0, 9] },
  { module: 'heartbeat', apiKey: 12, versions: [0, 3] },
  { module: 'leaveGroup', apiKey: 13, versions: [0, 3] },
  { module: 'syncGroup', apiKey: 14, versions: [0, 3] },
  { module: 'describeGroups', apiKey: 15, versions: [0, 4] },
  { module: 'listGroups', apiKey: 16, versions: [0, 4] },
  { module: 'saslHandshake', apiKey: 17, versions: [0, 1] },
  { module: 'apiVersions', apiKey: 18, versions: [0, 3] },
  { module: 'createTopics', apiKey: 19, versions: [0, 3] },
  { module: 'deleteTopics', apiKey: 20, versions: [0, 4] },
  { module: 'deleteRecords', apiKey: 21, versions: [0, 1] },
  { module: 'initProducerId', apiKey: 22, versions: [0, 2] },
  { module: 'describeConfigs', apiKey: 32, versions: [0, 3] },
  { module: 'saslAuthenticate', apiKey: 36, versions: [0, 2] },
  { module: 'createPartitions', apiKey: 37, versions: [0, 1] },
  {
    module: 'deleteGroups',
    apiKey: 42,
    versions: [0, 2],
    extendSpecVersions: { response: [0, 2], why: 'the Kafka 4.0 response file dropped v0, whose layout equals v1' },
  },
];

/** Data (non-API) schemas: the bytes inside JoinGroup metadata and SyncGroup assignments. */
const DATA_SCHEMAS = [
  { module: 'consumerProtocol', specs: ['ConsumerProtocolSubscription', 'ConsumerProtocolAssignment'], versions: [0, 2] as Range },
];

/**
 * Field names that differ from these (older) spec files: Apache Kafka renamed the Produce fields in 2.8
 * without a wire change, and the broker code is written against the current names.
 */
const RENAMES: Record<string, string> = {
  'ProduceRequest.Topics': 'topicData',
  'ProduceRequest.Topics.Partitions': 'partitionData',
  'ProduceRequest.Topics.Partitions.PartitionIndex': 'index',
  'ProduceResponse.Responses.Partitions': 'partitionResponses',
  'ProduceResponse.Responses.Partitions.PartitionIndex': 'index',
};

const PRIMITIVES = new Set(['bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'string', 'bytes', 'records', 'uuid']);
const TS_TYPES: Record<string, string> = {
  bool: 'boolean',
  int8: 'number',
  int16: 'number',
  uint16: 'number',
  int32: 'number',
  uint32: 'number',
  int64: 'bigint',
  float64: 'number',
  string: 'string',
  bytes: 'Buffer',
  records: 'Buffer',
  uuid: 'string',
};

interface SpecField {
  name: string;
  type: string;
  versions: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  default?: string | number | boolean;
  flexibleVersions?: string;
  about?: string;
  fields?: SpecField[];
}

interface SpecMessage {
  name: string;
  apiKey?: number;
  type: string;
  validVersions: string;
  flexibleVersions?: string;
  fields: SpecField[];
  commonStructs?: { name: string; versions: string; fields: SpecField[] }[];
}

/** The output: our schema plus what the TypeScript emitter needs. */
interface OutField {
  name: string;
  type: string;
  items?: string;
  fields?: OutField[];
  versions: Range;
  nullableVersions?: Range;
  tag?: number;
  taggedVersions?: Range;
  default?: number | bigint | boolean | string | null;
  neverFlexible?: true;
  // For the emitter only.
  tsStructName?: string;
  about?: string;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const specDir = resolve(repoRoot, process.argv[2] ?? '../shared/kafka-protocol/messages');
const outDir = join(repoRoot, 'src/embedded/broker/protocol/generated');

function readSpec(name: string): SpecMessage {
  const text = readFileSync(join(specDir, `${name}.json`), 'utf8');
  // The specs are JSON with `//` comment lines.
  const json = text
    .split('\n')
    .filter((line) => !line.trim().startsWith('//'))
    .join('\n');
  return JSON.parse(json) as SpecMessage;
}

function parseVersions(text: string | undefined): Range | undefined {
  if (text === undefined || text === 'none') return undefined;
  if (text.endsWith('+')) return [Number(text.slice(0, -1)), Number.MAX_SAFE_INTEGER];
  const [min, max] = text.split('-').map(Number);
  return [min, max ?? min];
}

function intersect(a: Range | undefined, b: Range | undefined): Range | undefined {
  if (!a || !b) return undefined;
  const range: Range = [Math.max(a[0], b[0]), Math.min(a[1], b[1])];
  return range[0] <= range[1] ? range : undefined;
}

function lowerFirst(name: string): string {
  return name[0].toLowerCase() + name.slice(1);
}

function parseDefault(field: SpecField, type: string, nullable: boolean): OutField['default'] {
  const raw = field.default;
  if (raw === undefined) {
    // Kafka's own default for a field that is nullable in every version it exists in is null here:
    // "absent" then reads as "not set" (e.g. Produce v0-2 transactionalId).
    if (nullable && ['string', 'bytes', 'records'].includes(type)) return null;
    return undefined;
  }
  if (raw === 'null') return null;
  switch (type) {
    case 'bool':
      return raw === true || raw === 'true';
    case 'int64':
      return BigInt(raw as string | number);
    case 'string':
      return String(raw);
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'float64':
      return Number(raw);
    default:
      throw new Error(`unsupported default ${JSON.stringify(raw)} for ${field.name} (${type})`);
  }
}

function convertFields(
  fields: readonly SpecField[],
  parentRange: Range,
  message: SpecMessage,
  path: string,
): OutField[] {
  const common = new Map((message.commonStructs ?? []).map((struct) => [struct.name, struct.fields]));
  const out: OutField[] = [];
  for (const field of fields) {
    const versions = intersect(parseVersions(field.versions), parentRange);
    if (!versions) continue;
    const fieldPath = `${path}.${field.name}`;
    const isArray = field.type.startsWith('[]');
    const baseType = isArray ? field.type.slice(2) : field.type;
    const isStruct = !PRIMITIVES.has(baseType);
    const nullableVersions = intersect(parseVersions(field.nullableVersions), versions);
    const converted: OutField = {
      name: RENAMES[fieldPath] ?? lowerFirst(field.name),
      type: isArray ? 'array' : isStruct ? 'struct' : baseType,
      versions,
      about: field.about,
    };
    if (isArray) converted.items = isStruct ? 'struct' : baseType;
    if (isStruct) {
      const structFields = field.fields ?? common.get(baseType);
      if (!structFields) throw new Error(`${fieldPath}: struct ${baseType} has no definition`);
      converted.fields = convertFields(structFields, versions, message, fieldPath);
      converted.tsStructName = baseType.startsWith(message.name) ? baseType : `${message.name}${baseType}`;
    }
    if (nullableVersions && isStruct && !isArray) {
      // Nullable structs carry an extra int8 marker that codec.ts does not implement (no served API needs it).
      throw new Error(`${fieldPath}: nullable structs are not supported by codec.ts`);
    }
    if (nullableVersions) converted.nullableVersions = nullableVersions;
    const taggedVersions = intersect(parseVersions(field.taggedVersions), versions);
    if (taggedVersions) {
      converted.tag = field.tag;
      converted.taggedVersions = taggedVersions;
    }
    const nullableEverywhere = nullableVersions !== undefined && nullableVersions[0] === versions[0] && nullableVersions[1] === versions[1];
    const fieldDefault = parseDefault(field, converted.type, nullableEverywhere);
    if (fieldDefault !== undefined) converted.default = fieldDefault;
    if (field.flexibleVersions === 'none') converted.neverFlexible = true;
    out.push(converted);
  }
  return out;
}

function clampRange(range: Range, served: Range): Range {
  // `n+` ranges were parsed with an open end; pin them to the served maximum for readability.
  return [range[0], Math.min(range[1], served[1])];
}

function clampAll(fields: OutField[], served: Range): void {
  for (const field of fields) {
    field.versions = clampRange(field.versions, served);
    if (field.nullableVersions) field.nullableVersions = clampRange(field.nullableVersions, served);
    if (field.taggedVersions) field.taggedVersions = clampRange(field.taggedVersions, served);
    if (field.fields) clampAll(field.fields, served);
  }
}

interface BuiltMessage {
  name: string;
  served: Range;
  firstFlexibleVersion: number | null;
  fields: OutField[];
}

function buildMessage(spec: SpecMessage, served: Range, extended?: Range): BuiltMessage {
  const valid = extended ?? parseVersions(spec.validVersions)!;
  if (served[0] < valid[0] || served[1] > valid[1]) {
    throw new Error(`${spec.name}: served versions ${served.join('-')} exceed validVersions ${spec.validVersions}`);
  }
  const flexible = parseVersions(spec.flexibleVersions);
  const firstFlexibleVersion = flexible && flexible[0] <= served[1] ? Math.max(flexible[0], served[0]) : null;
  const fields = convertFields(spec.fields, served, spec, spec.name);
  clampAll(fields, served);
  return { name: spec.name, served, firstFlexibleVersion, fields };
}

// ---------------------------------------------------------------- emitting

function formatRange(range: Range, served: Range): string {
  if (range[0] === range[1]) return `v${range[0]}`;
  return range[1] === served[1] ? `v${range[0]}+` : `v${range[0]}-${range[1]}`;
}

function literal(value: OutField['default']): string {
  if (typeof value === 'bigint') return `${value}n`;
  return JSON.stringify(value);
}

function emitSchemaFields(fields: readonly OutField[], indent: string): string {
  const lines = fields.map((field) => {
    const parts = [`name: '${field.name}'`, `type: '${field.type}'`];
    if (field.items) parts.push(`items: '${field.items}'`);
    parts.push(`versions: [${field.versions.join(', ')}]`);
    if (field.nullableVersions) parts.push(`nullableVersions: [${field.nullableVersions.join(', ')}]`);
    if (field.taggedVersions) parts.push(`tag: ${field.tag}`, `taggedVersions: [${field.taggedVersions.join(', ')}]`);
    if (field.default !== undefined) parts.push(`default: ${literal(field.default)}`);
    if (field.neverFlexible) parts.push('neverFlexible: true');
    if (field.fields) parts.push(`fields: [\n${emitSchemaFields(field.fields, `${indent}    `)}${indent}  ]`);
    return `${indent}{ ${parts.join(', ')} },\n`;
  });
  return lines.join('');
}

function tsType(field: OutField): string {
  const element = field.type === 'array' ? field.items! : field.type;
  const base = element === 'struct' ? field.tsStructName! : TS_TYPES[element];
  const type = field.type === 'array' ? `${base}[]` : base;
  return field.nullableVersions ? `${type} | null` : type;
}

function emitInterfaces(name: string, fields: readonly OutField[], served: Range, out: Map<string, string>): void {
  if (out.has(name)) return;
  const members = fields.map((field) => {
    const notes = [formatRange(field.versions, served)];
    if (field.nullableVersions) notes.push(`nullable ${formatRange(field.nullableVersions, served)}`);
    if (field.taggedVersions) notes.push(`tag ${field.tag}`);
    if (field.default !== undefined) notes.push(`default ${literal(field.default)}`);
    const about = field.about ? `${field.about.trim()} ` : '';
    return `  /** ${about}(${notes.join(', ')}) */\n  ${field.name}: ${tsType(field)};`;
  });
  out.set(name, `export interface ${name} {\n${members.join('\n')}\n}`);
  for (const field of fields) {
    if (field.fields) emitInterfaces(field.tsStructName!, field.fields, served, out);
  }
}

function emitMessage(message: BuiltMessage): string {
  const interfaces = new Map<string, string>();
  emitInterfaces(message.name, message.fields, message.served, interfaces);
  return [
    `export const ${message.name}Schema: MessageSchema = {`,
    `  name: '${message.name}',`,
    `  versions: [${message.served.join(', ')}],`,
    `  firstFlexibleVersion: ${message.firstFlexibleVersion},`,
    `  fields: [\n${emitSchemaFields(message.fields, '    ')}  ],`,
    `};`,
    '',
    ...[...interfaces.values()].flatMap((text) => [text, '']),
  ].join('\n');
}

function header(sources: string[]): string {
  return [
    '// GENERATED by scripts/generate-kafka-protocol.ts. Do not edit by hand.',
    '//',
    `// Derived from the Apache Kafka protocol message specifications (${sources.join(', ')}),`,
    '// clients/src/main/resources/common/message/ in https://github.com/apache/kafka,',
    '// Copyright The Apache Software Foundation, licensed under the Apache License, Version 2.0',
    '// (http://www.apache.org/licenses/LICENSE-2.0).',
    '',
  ].join('\n');
}

/** File names are kebab-case like every other folder's. */
function kebabCase(module: string): string {
  return module.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

function pascal(module: string): string {
  return module[0].toUpperCase() + module.slice(1);
}

function main(): void {
  if (!existsSync(join(specDir, 'ProduceRequest.json'))) {
    console.error(`No Kafka message specs in ${specDir}: pass the folder holding ProduceRequest.json etc.`);
    process.exit(1);
  }
  mkdirSync(outDir, { recursive: true });
  const indexEntries: string[] = [];
  const imports: string[] = [];
  const requestBodies: string[] = [];
  const responseBodies: string[] = [];
  const apiKeys: string[] = [];

  for (const api of SERVED_APIS) {
    const name = pascal(api.module);
    const requestSpec = readSpec(`${name}Request`);
    const responseSpec = readSpec(`${name}Response`);
    for (const spec of [requestSpec, responseSpec]) {
      if (spec.apiKey !== api.apiKey) throw new Error(`${spec.name}: apiKey ${spec.apiKey}, expected ${api.apiKey}`);
    }
    const request = buildMessage(requestSpec, api.versions, api.extendSpecVersions?.request);
    const response = buildMessage(responseSpec, api.versions, api.extendSpecVersions?.response);
    const note = api.extendSpecVersions ? `// Served versions extend the spec file: ${api.extendSpecVersions.why}.\n\n` : '';
    const text = [
      header([`${name}Request.json`, `${name}Response.json`]),
      `import type { MessageSchema } from '../schema.js';`,
      '',
      note + emitMessage(request),
      emitMessage(response),
    ].join('\n');
    writeFileSync(join(outDir, `${kebabCase(api.module)}.ts`), `${text.trimEnd()}\n`);

    imports.push(
      `import { ${name}RequestSchema, ${name}ResponseSchema, type ${name}Request, type ${name}Response } from './${kebabCase(api.module)}.js';`,
    );
    apiKeys.push(`  ${name}: ${api.apiKey},`);
    indexEntries.push(
      `  { apiKey: ${api.apiKey}, name: '${name}', minVersion: ${api.versions[0]}, maxVersion: ${api.versions[1]}, request: ${name}RequestSchema, response: ${name}ResponseSchema },`,
    );
    requestBodies.push(`  ${api.apiKey}: ${name}Request;`);
    responseBodies.push(`  ${api.apiKey}: ${name}Response;`);
  }

  for (const data of DATA_SCHEMAS) {
    const messages = data.specs.map((specName) => buildMessage(readSpec(specName), data.versions));
    const text = [
      header(data.specs.map((specName) => `${specName}.json`)),
      `import type { MessageSchema } from '../schema.js';`,
      '',
      ...messages.map(emitMessage),
    ].join('\n');
    writeFileSync(join(outDir, `${kebabCase(data.module)}.ts`), `${text.trimEnd()}\n`);
  }

  const index = [
    header(SERVED_APIS.flatMap((api) => [`${pascal(api.module)}Request.json`, `${pascal(api.module)}Response.json`])),
    `import type { MessageSchema } from '../schema.js';`,
    ...imports,
    '',
    '/** Kafka API keys of the APIs the broker serves. */',
    'export const ApiKey = {',
    ...apiKeys,
    '} as const;',
    'export type ApiKey = (typeof ApiKey)[keyof typeof ApiKey];',
    '',
    'export interface ApiDefinition {',
    '  readonly apiKey: ApiKey;',
    '  readonly name: string;',
    '  readonly minVersion: number;',
    '  readonly maxVersion: number;',
    '  readonly request: MessageSchema;',
    '  readonly response: MessageSchema;',
    '}',
    '',
    '/** Every served API with the exact version range its schemas were generated for. */',
    'export const API_DEFINITIONS: readonly ApiDefinition[] = [',
    ...indexEntries,
    '];',
    '',
    '/** Decoded request body per API key. */',
    'export interface RequestBodies {',
    ...requestBodies,
    '}',
    '',
    '/** Response body per API key. */',
    'export interface ResponseBodies {',
    ...responseBodies,
    '}',
    '',
  ].join('\n');
  writeFileSync(join(outDir, 'index.ts'), index);
  console.log(`wrote ${SERVED_APIS.length + DATA_SCHEMAS.length + 1} modules to ${outDir}`);
}

main();
