/**
 * The committed schema files: `schemas/<subject>.avsc`, where the subject is `<topic>-key` or
 * `<topic>-value` (Confluent's TopicNameStrategy).
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TandemError } from '../errors.js';
import { parseAvroSchemaText, type AvroNode, type AvroSchemaJson } from './avro-schema.js';

export interface SchemaFile {
  subject: string;
  /** Path as given (relative to the working directory when the directory was). */
  file: string;
  text: string;
  schema: AvroNode;
}

/** Reads and validates every .avsc in the directory; all invalid files are reported together, one line each. */
export async function readSchemaDir(dir: string): Promise<SchemaFile[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.avsc')).sort();
  } catch {
    throw new TandemError(`schema directory ${dir} does not exist`, { fix: 'run `tandem schemas generate` first, or pass --dir' });
  }
  if (names.length === 0) throw new TandemError(`no .avsc files in ${dir}`, { fix: 'run `tandem schemas generate` to write them' });
  const files: SchemaFile[] = [];
  const problems: string[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    const text = await readFile(file, 'utf8');
    try {
      files.push({ subject: name.slice(0, -'.avsc'.length), file, text, schema: parseAvroSchemaText(text) });
    } catch (error) {
      problems.push(`${file}: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) {
    throw new TandemError(problems.join('\n'), { fix: 'correct the schema files listed above' });
  }
  return files;
}

/** Parses a previous version (from git, a registry or a directory), naming where it came from on error. */
export function parsePreviousSchema(text: string, origin: string): AvroNode {
  try {
    return parseAvroSchemaText(text);
  } catch (error) {
    throw new TandemError(`${origin}: ${(error as Error).message}`, { fix: 'the previous version is not a valid schema; compare against another one with --against' });
  }
}

export function schemaFileText(schema: AvroSchemaJson): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

export async function writeSchemaFile(dir: string, subject: string, schema: AvroSchemaJson): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${subject}.avsc`);
  await writeFile(file, schemaFileText(schema));
  return file;
}
