/**
 * Where `schemas check` finds the versions a schema file must stay compatible with:
 *   git:<ref>        the file at that commit (transitive modes: every version in its history up to it)
 *   registry:<url>   every version of the subject in a schema registry (and its compatibility level)
 *   dir:<path>       the file of the same name in another directory
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { TandemError } from '../errors.js';
import type { CompatibilityMode, PreviousSchema } from './compatibility.js';
import { RegistryApi } from './registry-api.js';
import { parsePreviousSchema, type SchemaFile } from './schema-files.js';

const run = promisify(execFile);

export type VersionSourceSpec = { kind: 'git'; ref: string } | { kind: 'registry'; url: string } | { kind: 'dir'; path: string };

export interface VersionSource {
  /** As the user wrote it: `git:HEAD`, `registry:http://…`, `dir:old-schemas`. */
  label: string;
  /** Previous versions of the subject, oldest first; empty for a new subject. */
  versions(file: SchemaFile, transitive: boolean): Promise<PreviousSchema[]>;
  /** The compatibility level the source prescribes for the subject, if it has one (a registry does). */
  mode?(subject: string): Promise<CompatibilityMode>;
}

export function parseVersionSource(text: string): VersionSourceSpec {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? '' : text.slice(0, colon);
  const value = text.slice(colon + 1);
  if (kind === 'git' && value) return { kind, ref: value };
  if (kind === 'registry' && /^https?:\/\//.test(value)) return { kind, url: value };
  if (kind === 'dir' && value) return { kind, path: value };
  throw new TandemError(`--against ${text} is not a version source`, { fix: 'use git:<ref> (e.g. git:origin/main), registry:<url> (e.g. registry:http://localhost:8081) or dir:<path>' });
}

export function openVersionSource(spec: VersionSourceSpec): VersionSource {
  switch (spec.kind) {
    case 'git':
      return gitSource(spec.ref);
    case 'registry':
      return registrySource(spec.url);
    case 'dir':
      return dirSource(spec.path);
  }
}

function gitSource(ref: string): VersionSource {
  let verified: Promise<void> | undefined;
  const git = async (cwd: string, args: string[]) => (await run('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })).stdout;
  const verify = (cwd: string) =>
    (verified ??= git(cwd, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).then(
      () => undefined,
      (error: Error & { code?: string | number; stderr?: string }) => {
        if (error.code === 'ENOENT') throw new TandemError('git is not installed', { fix: 'install git, or use --against dir:<path> or registry:<url>' });
        if (/not a git repository/i.test(error.stderr ?? '')) throw new TandemError(`${cwd} is not inside a git repository`, { fix: 'run the check in a clone, or use --against dir:<path>' });
        throw new TandemError(`git ref ${ref} does not exist`, { fix: 'fetch it first (in CI: actions/checkout with fetch-depth: 0), or name another ref' });
      },
    ));

  return {
    label: `git:${ref}`,
    async versions(file, transitive) {
      const cwd = path.dirname(path.resolve(file.file));
      const name = `./${path.basename(file.file)}`;
      await verify(cwd);
      const show = (commit: string) => git(cwd, ['show', `${commit}:${name}`]).catch(() => undefined);
      if (!transitive) {
        const text = await show(ref);
        return text === undefined ? [] : [{ label: ref, schema: parsePreviousSchema(text, `${file.file} at ${ref}`) }];
      }
      const commits = (await git(cwd, ['log', '--format=%h', ref, '--', name])).split('\n').filter(Boolean).reverse();
      const versions: PreviousSchema[] = [];
      let previousText: string | undefined;
      for (const commit of commits) {
        const text = await show(commit);
        if (text === undefined || text === previousText) continue; // deleted there, or unchanged
        previousText = text;
        versions.push({ label: commit, schema: parsePreviousSchema(text, `${file.file} at ${commit}`) });
      }
      return versions;
    },
  };
}

function registrySource(url: string): VersionSource {
  const api = new RegistryApi({ url });
  return {
    label: `registry:${api.location}`,
    async versions(file, transitive) {
      const versions = await api.subjectVersions(file.subject);
      const chosen = transitive ? versions : versions.slice(-1);
      return chosen.map((version) => ({ label: `version ${version.version}`, schema: parsePreviousSchema(version.schema, `${file.subject} version ${version.version} in ${api.location}`) }));
    },
    mode: (subject) => api.compatibilityLevel(subject),
  };
}

function dirSource(dir: string): VersionSource {
  if (!existsSync(dir)) throw new TandemError(`--against dir:${dir}: the directory does not exist`, { fix: 'pass the directory holding the previous schema files' });
  return {
    label: `dir:${dir}`,
    async versions(file) {
      const previous = path.join(dir, path.basename(file.file));
      if (!existsSync(previous)) return [];
      return [{ label: previous, schema: parsePreviousSchema(await readFile(previous, 'utf8'), previous) }];
    },
  };
}
