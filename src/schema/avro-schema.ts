/**
 * Avro schemas as plain data: the JSON form (what .avsc files and the registry hold) and a parsed
 * form with every named-type reference resolved and every name fully qualified, which the
 * compatibility rules walk. Parsing validates what the Avro specification requires and reports the
 * first problem with its path (`fields.after.email: unknown type "Adress"`).
 */
import { TandemError } from '../errors.js';

/** Avro schema JSON as written in .avsc files. */
export type AvroSchemaJson = string | AvroSchemaJson[] | AvroSchemaObject | AvroRecordJson;
export interface AvroSchemaObject {
  type: AvroSchemaJson;
  [attribute: string]: unknown;
}
export interface AvroRecordJson {
  type: 'record';
  name: string;
  namespace?: string;
  doc?: string;
  aliases?: string[];
  fields: AvroFieldJson[];
}
export interface AvroFieldJson {
  name: string;
  type: AvroSchemaJson;
  default?: unknown;
  aliases?: string[];
  doc?: string;
}

export type PrimitiveTypeName = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string';
export const PRIMITIVE_TYPES: readonly PrimitiveTypeName[] = ['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'];

/** A logical type annotation; decimal carries precision and scale. */
export interface LogicalTypeInfo {
  name: string;
  precision?: number;
  scale?: number;
}

export type AvroNode = PrimitiveNode | RecordNode | EnumNode | FixedNode | ArrayNode | MapNode | UnionNode;
export interface PrimitiveNode {
  kind: 'primitive';
  type: PrimitiveTypeName;
  logical?: LogicalTypeInfo;
}
export interface RecordNode {
  kind: 'record';
  /** Fully qualified name, e.g. `shop.public.customers.Value`. */
  name: string;
  aliases: string[];
  fields: FieldNode[];
}
export interface FieldNode {
  name: string;
  aliases: string[];
  type: AvroNode;
  hasDefault: boolean;
  default?: unknown;
}
export interface EnumNode {
  kind: 'enum';
  name: string;
  aliases: string[];
  symbols: string[];
  default?: string;
}
export interface FixedNode {
  kind: 'fixed';
  name: string;
  aliases: string[];
  size: number;
  logical?: LogicalTypeInfo;
}
export interface ArrayNode {
  kind: 'array';
  items: AvroNode;
}
export interface MapNode {
  kind: 'map';
  values: AvroNode;
}
export interface UnionNode {
  kind: 'union';
  branches: AvroNode[];
}

export type NamedNode = RecordNode | EnumNode | FixedNode;

/** A schema that breaks the Avro specification; `path` locates the problem inside the schema. */
export class InvalidSchemaError extends TandemError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(path ? `${path}: ${reason}` : reason, { fix: 'correct the schema; see https://avro.apache.org/docs/current/specification/' });
    this.name = 'InvalidSchemaError';
  }
}

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses Avro schema JSON (already JSON-decoded) into resolved nodes, validating it on the way. */
export function parseAvroSchema(json: unknown): AvroNode {
  return new SchemaParser().parse(json, '', '');
}

/** Parses the text of an .avsc file or a registry schema string; JSON syntax errors give line and column. */
export function parseAvroSchemaText(text: string): AvroNode {
  return parseAvroSchema(parseJsonText(text));
}

/** JSON.parse with the error position turned into `line L, column C` for people. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    const offset = position ? Number(position[1]) : text.length;
    const { line, column } = lineAndColumn(text, offset);
    const reason = message.replace(/ in JSON at position \d+.*$/, '').replace(/^JSON\.parse: /, '');
    throw new InvalidSchemaError('', `invalid JSON at line ${line}, column ${column}: ${reason}`);
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return { line, column };
}

/** Full name of a named type: `name` qualified by its own or the enclosing namespace. */
export function qualifyName(name: string, namespace: string): string {
  if (name.includes('.') || !namespace) return name;
  return `${namespace}.${name}`;
}

export function namespaceOf(fullName: string): string {
  const dot = fullName.lastIndexOf('.');
  return dot < 0 ? '' : fullName.slice(0, dot);
}

export function unqualifiedName(fullName: string): string {
  return fullName.slice(fullName.lastIndexOf('.') + 1);
}

/** Short human form of a type for messages: `int`, `long (timestamp-micros)`, `record Value`, `[null, string]`. */
export function describeType(node: AvroNode): string {
  switch (node.kind) {
    case 'primitive':
      return node.logical ? `${node.type} (${describeLogical(node.logical)})` : node.type;
    case 'record':
    case 'enum':
      return `${node.kind} ${unqualifiedName(node.name)}`;
    case 'fixed':
      return `fixed ${unqualifiedName(node.name)}(${node.size})${node.logical ? ` (${describeLogical(node.logical)})` : ''}`;
    case 'array':
      return `array<${describeType(node.items)}>`;
    case 'map':
      return `map<${describeType(node.values)}>`;
    case 'union':
      return `[${node.branches.map(describeType).join(', ')}]`;
  }
}

function describeLogical(logical: LogicalTypeInfo): string {
  return logical.name === 'decimal' ? `decimal(${logical.precision},${logical.scale ?? 0})` : logical.name;
}

class SchemaParser {
  private readonly named = new Map<string, NamedNode>();

  parse(json: unknown, namespace: string, path: string): AvroNode {
    if (typeof json === 'string') return this.reference(json, namespace, path);
    if (Array.isArray(json)) return this.union(json, namespace, path);
    if (json === null || typeof json !== 'object') {
      throw new InvalidSchemaError(path, `expected a type name, an object with "type" or a union array, got ${JSON.stringify(json)}`);
    }
    const object = json as Record<string, unknown>;
    const type = object.type;
    if (type === undefined) throw new InvalidSchemaError(path, 'missing "type"');
    switch (type) {
      case 'record':
      case 'error':
        return this.record(object, namespace, path);
      case 'enum':
        return this.enumeration(object, namespace, path);
      case 'fixed':
        return this.fixed(object, namespace, path);
      case 'array':
        if (object.items === undefined) throw new InvalidSchemaError(path, 'array without "items"');
        return { kind: 'array', items: this.parse(object.items, namespace, join(path, '[]')) };
      case 'map':
        if (object.values === undefined) throw new InvalidSchemaError(path, 'map without "values"');
        return { kind: 'map', values: this.parse(object.values, namespace, join(path, '{}')) };
    }
    if (typeof type === 'string' && isPrimitive(type)) {
      const logical = logicalTypeOf(object, type, path);
      return logical ? { kind: 'primitive', type, logical } : { kind: 'primitive', type };
    }
    // `{"type": "SomeRecord"}` or `{"type": ["null", "string"]}`: a wrapped reference or union.
    return this.parse(type, namespace, path);
  }

  private reference(name: string, namespace: string, path: string): AvroNode {
    if (isPrimitive(name)) return { kind: 'primitive', type: name };
    const found = this.named.get(qualifyName(name, namespace)) ?? this.named.get(name);
    if (!found) {
      const known = [...this.named.keys()];
      const hint = known.length > 0 ? ` (defined so far: ${known.join(', ')})` : '';
      throw new InvalidSchemaError(path, `unknown type "${name}"${hint}`);
    }
    return found;
  }

  private union(branches: unknown[], namespace: string, path: string): UnionNode {
    const nodes = branches.map((branch, index) => {
      if (Array.isArray(branch)) throw new InvalidSchemaError(path, `union branch ${index} is itself a union, which Avro forbids`);
      return this.parse(branch, namespace, path);
    });
    const seen = new Set<string>();
    for (const node of nodes) {
      const key = node.kind === 'primitive' ? node.type : node.kind === 'array' || node.kind === 'map' || node.kind === 'union' ? node.kind : node.name;
      if (seen.has(key)) throw new InvalidSchemaError(path, `union has two branches of type ${key}, which Avro forbids`);
      seen.add(key);
    }
    return { kind: 'union', branches: nodes };
  }

  private declare(object: Record<string, unknown>, namespace: string, path: string): { name: string; aliases: string[]; namespace: string } {
    const name = object.name;
    if (typeof name !== 'string' || name === '') throw new InvalidSchemaError(path, `${String(object.type)} without a "name"`);
    const ownNamespace = typeof object.namespace === 'string' ? object.namespace : namespace;
    const fullName = qualifyName(name, ownNamespace);
    validateFullName(fullName, path);
    if (isPrimitive(unqualifiedName(fullName))) throw new InvalidSchemaError(path, `"${name}" is a primitive type name and cannot name a ${String(object.type)}`);
    if (this.named.has(fullName)) throw new InvalidSchemaError(path, `type "${fullName}" is defined twice`);
    const typeNamespace = namespaceOf(fullName);
    const aliases = stringList(object.aliases, join(path, 'aliases')).map((alias) => qualifyName(alias, typeNamespace));
    return { name: fullName, aliases, namespace: typeNamespace };
  }

  private record(object: Record<string, unknown>, namespace: string, path: string): RecordNode {
    const { name, aliases, namespace: inner } = this.declare(object, namespace, path);
    if (!Array.isArray(object.fields)) throw new InvalidSchemaError(path, `record ${name} without a "fields" array`);
    // Registered before its fields are parsed, so a field may refer to the record itself.
    const node: RecordNode = { kind: 'record', name, aliases, fields: [] };
    this.named.set(name, node);
    const fieldNames = new Set<string>();
    for (const [index, raw] of (object.fields as unknown[]).entries()) {
      if (raw === null || typeof raw !== 'object') throw new InvalidSchemaError(join(path, `fields[${index}]`), 'a field must be an object');
      const field = raw as Record<string, unknown>;
      if (typeof field.name !== 'string' || !NAME_PATTERN.test(field.name)) {
        throw new InvalidSchemaError(join(path, `fields[${index}]`), `invalid field name ${JSON.stringify(field.name)} (letters, digits and _, not starting with a digit)`);
      }
      const fieldPath = join(path, field.name);
      if (fieldNames.has(field.name)) throw new InvalidSchemaError(fieldPath, `record ${name} has two fields named ${field.name}`);
      fieldNames.add(field.name);
      if (field.type === undefined) throw new InvalidSchemaError(fieldPath, 'field without a "type"');
      const type = this.parse(field.type, inner, fieldPath);
      const hasDefault = Object.hasOwn(field, 'default');
      if (hasDefault) checkDefault(type, field.default, fieldPath);
      node.fields.push({
        name: field.name,
        aliases: stringList(field.aliases, join(fieldPath, 'aliases')),
        type,
        hasDefault,
        ...(hasDefault ? { default: field.default } : {}),
      });
    }
    return node;
  }

  private enumeration(object: Record<string, unknown>, namespace: string, path: string): EnumNode {
    const { name, aliases } = this.declare(object, namespace, path);
    const symbols = stringList(object.symbols, join(path, 'symbols'));
    if (!Array.isArray(object.symbols)) throw new InvalidSchemaError(path, `enum ${name} without a "symbols" array`);
    for (const symbol of symbols) {
      if (!NAME_PATTERN.test(symbol)) throw new InvalidSchemaError(path, `enum ${name} has an invalid symbol "${symbol}"`);
    }
    if (new Set(symbols).size !== symbols.length) throw new InvalidSchemaError(path, `enum ${name} lists a symbol twice`);
    const node: EnumNode = { kind: 'enum', name, aliases, symbols };
    if (object.default !== undefined) {
      if (typeof object.default !== 'string' || !symbols.includes(object.default)) {
        throw new InvalidSchemaError(path, `enum ${name} default ${JSON.stringify(object.default)} is not one of its symbols`);
      }
      node.default = object.default;
    }
    this.named.set(name, node);
    return node;
  }

  private fixed(object: Record<string, unknown>, namespace: string, path: string): FixedNode {
    const { name, aliases } = this.declare(object, namespace, path);
    if (!Number.isInteger(object.size) || (object.size as number) < 0) throw new InvalidSchemaError(path, `fixed ${name} needs a non-negative integer "size"`);
    const node: FixedNode = { kind: 'fixed', name, aliases, size: object.size as number };
    const logical = logicalTypeOf(object, 'fixed', path);
    if (logical) node.logical = logical;
    this.named.set(name, node);
    return node;
  }
}

function logicalTypeOf(object: Record<string, unknown>, underlying: string, path: string): LogicalTypeInfo | undefined {
  const name = object.logicalType;
  if (name === undefined) return undefined;
  if (typeof name !== 'string') throw new InvalidSchemaError(path, '"logicalType" must be a string');
  if (name !== 'decimal') return { name };
  if (underlying !== 'bytes' && underlying !== 'fixed') throw new InvalidSchemaError(path, `decimal must annotate bytes or fixed, not ${underlying}`);
  const precision = object.precision;
  const scale = object.scale ?? 0;
  if (!Number.isInteger(precision) || (precision as number) < 1) throw new InvalidSchemaError(path, 'decimal needs a positive integer "precision"');
  if (!Number.isInteger(scale) || (scale as number) < 0 || (scale as number) > (precision as number)) {
    throw new InvalidSchemaError(path, `decimal scale ${JSON.stringify(scale)} must be an integer between 0 and the precision ${String(precision)}`);
  }
  return { name, precision: precision as number, scale: scale as number };
}

/** Avro requires a field default to match the type (for a union: its first branch). */
function checkDefault(type: AvroNode, value: unknown, path: string): void {
  if (!defaultMatches(type, value, new Set())) {
    const expected = type.kind === 'union' ? `its first union branch, ${describeType(type.branches[0]!)}` : describeType(type);
    throw new InvalidSchemaError(path, `default ${JSON.stringify(value)} does not match ${expected}`);
  }
}

function defaultMatches(type: AvroNode, value: unknown, seen: Set<RecordNode>): boolean {
  switch (type.kind) {
    case 'primitive':
      switch (type.type) {
        case 'null':
          return value === null;
        case 'boolean':
          return typeof value === 'boolean';
        case 'int':
        case 'long':
          return Number.isInteger(value);
        case 'float':
        case 'double':
          return typeof value === 'number';
        case 'bytes':
        case 'string':
          return typeof value === 'string';
      }
      return false;
    case 'enum':
      return typeof value === 'string' && type.symbols.includes(value);
    case 'fixed':
      return typeof value === 'string' && value.length === type.size;
    case 'array':
      return Array.isArray(value) && value.every((item) => defaultMatches(type.items, item, seen));
    case 'map':
      return isPlainObject(value) && Object.values(value).every((item) => defaultMatches(type.values, item, seen));
    case 'union':
      return defaultMatches(type.branches[0]!, value, seen);
    case 'record': {
      if (!isPlainObject(value)) return false;
      if (seen.has(type)) return true;
      seen.add(type);
      return type.fields.every((field) => (Object.hasOwn(value, field.name) ? defaultMatches(field.type, value[field.name], seen) : field.hasDefault));
    }
  }
}

function validateFullName(fullName: string, path: string): void {
  for (const part of fullName.split('.')) {
    if (!NAME_PATTERN.test(part)) throw new InvalidSchemaError(path, `invalid name "${fullName}": each part must be letters, digits and _, not starting with a digit`);
  }
}

function stringList(value: unknown, path: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw new InvalidSchemaError(path, 'expected an array of strings');
  return value as string[];
}

function isPrimitive(name: string): name is PrimitiveTypeName {
  return (PRIMITIVE_TYPES as readonly string[]).includes(name);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function join(path: string, segment: string): string {
  if (!path) return segment;
  return segment.startsWith('[') || segment.startsWith('{') ? `${path}${segment}` : `${path}.${segment}`;
}
