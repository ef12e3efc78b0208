import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { TandemError } from '../errors.js';
import { isEnvReference, lookupEnv } from './env.js';
import { connectorSchema, formatPath, qualify, resolveSecrets, type Connector } from './schema.js';

/** Default config: `tandem.config.ts` in the working directory, else the only file in connectors/. */
export function findConfigFile(explicit: string | undefined, cwd = process.cwd()): string {
  if (explicit) {
    const file = path.resolve(cwd, explicit);
    if (!existsSync(file)) throw new TandemError(`config file ${explicit} does not exist`, { fix: 'pass the path of a connector file, e.g. --config connectors/demo.ts' });
    return file;
  }
  const rootConfig = path.join(cwd, 'tandem.config.ts');
  if (existsSync(rootConfig)) return rootConfig;
  const dir = path.join(cwd, 'connectors');
  const candidates = existsSync(dir) ? readdirSync(dir).filter((file) => /\.(ts|mts|js|mjs)$/.test(file)) : [];
  if (candidates.length === 1) return path.join(dir, candidates[0]!);
  if (candidates.length === 0) {
    throw new TandemError('no connector found: there is no tandem.config.ts and connectors/ has no connector file', {
      fix: 'write connectors/<name>.ts with defineConnector({...}) or pass --config <file>',
    });
  }
  throw new TandemError(`several connectors in connectors/ (${candidates.join(', ')}); tandem does not know which to use`, {
    fix: `pass --config connectors/${candidates[0]}`,
  });
}

/** Loads, validates and resolves a connector file; every problem is reported with its path. */
export async function loadConnector(file: string): Promise<Connector> {
  const absolute = path.resolve(file);
  let module: Record<string, unknown>;
  try {
    module = (await tsImport(pathToFileURL(absolute).href, import.meta.url)) as Record<string, unknown>;
  } catch (error) {
    throw new TandemError(`${file} could not be loaded: ${(error as Error).message.split('\n')[0]}`, {
      fix: 'fix the syntax or import error in the connector file',
      cause: error,
    });
  }
  const exported = unwrapDefault(module.default ?? module.connector);
  if (exported === undefined) {
    throw new TandemError(`${file} has no default export`, { fix: 'end the file with `export default defineConnector({...})`' });
  }
  return parseConnector(exported, file);
}

// tsImport of a CommonJS-shaped module can nest the default export one level deeper.
function unwrapDefault(value: unknown): unknown {
  if (value && typeof value === 'object' && 'default' in value && !('name' in value)) return (value as { default: unknown }).default;
  return value;
}

export function parseConnector(input: unknown, origin = 'connector'): Connector {
  const problems: string[] = [];
  const result = connectorSchema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(`${formatPath(issue.path) || '(root)'}: ${issue.message}`);
  }
  collectMissingEnv(input, [], problems);
  if (problems.length > 0 || !result.success) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    throw new TandemError(`${origin} is not a valid connector (${count}):\n${problems.map((line) => `  ${line}`).join('\n')}`, {
      fix: 'correct the fields listed above',
    });
  }
  const parsed = resolveSecrets(result.data) as Connector;
  const defaultName = parsed.name.replace(/-/g, '_');
  return {
    ...parsed,
    source: {
      ...parsed.source,
      tables: parsed.source.tables.map((table) => qualify(table, parsed.source.schema)),
      publication: parsed.source.publication ?? `tandem_${defaultName}`,
      slot: parsed.source.slot ?? `tandem_${defaultName}`,
    },
    kafka: { ...parsed.kafka, topicPrefix: parsed.kafka.topicPrefix ?? parsed.name },
    mappings: Object.fromEntries(Object.entries(parsed.mappings).map(([table, mapping]) => [qualify(table, parsed.source.schema), mapping])),
  };
}

function collectMissingEnv(value: unknown, path: string[], problems: string[]): void {
  if (isEnvReference(value)) {
    if (lookupEnv(value) === undefined) problems.push(`${formatPath(path)}: environment variable ${value.name} is not set`);
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) collectMissingEnv(item, [...path, key], problems);
  }
}
