/**
 * The registry's operations, one per REST endpoint, with Confluent's error codes. Registration
 * checks compatibility with the same engine as `tandem schemas check`. Mutations are serialized and
 * each one is in the write-ahead log before it is applied and answered.
 */
import { parseAvroSchemaText, type AvroNode } from '../../schema/avro-schema.js';
import { checkCompatibility, COMPATIBILITY_MODES, formatIncompatibility, type CompatibilityMode } from '../../schema/compatibility.js';
import type { ChangeLog } from './change-log.js';
import { applyChange, emptyState, liveVersions, nextSchemaId, type RegistryChange, type RegistryState, type VersionEntry } from './state.js';

/** An error as the Confluent registry reports it: HTTP status and `{error_code, message}`. */
export class RegistryError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

const subjectNotFound = (subject: string) => new RegistryError(404, 40401, `Subject '${subject}' not found.`);
const versionNotFound = (version: number | string) => new RegistryError(404, 40402, `Version ${version} not found.`);
const schemaNotFound = (id?: number) => new RegistryError(404, 40403, id === undefined ? 'Schema not found' : `Schema ${id} not found`);
const invalidSchema = (reason: string) => new RegistryError(422, 42201, `Invalid schema: ${reason}`);

export interface SchemaRequest {
  schema?: unknown;
  schemaType?: unknown;
  references?: unknown;
}

export interface SubjectVersionView {
  subject: string;
  version: number;
  id: number;
  schema: string;
}

export class RegistryService {
  private readonly state: RegistryState = emptyState();
  private readonly parsed = new Map<number, AvroNode>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly log: ChangeLog) {
    for (const change of log.changes) applyChange(this.state, change);
  }

  register(subject: string, request: SchemaRequest): Promise<{ id: number }> {
    return this.exclusive(async () => {
      const { text, node } = this.parseRequest(request);
      const live = liveVersions(this.state, subject);
      const existingId = this.state.idsBySchema.get(text);
      const already = live.find((entry) => entry.id === existingId);
      if (already) return { id: already.id };

      const mode = this.compatibilityOf(subject);
      const problems = checkCompatibility(node, this.previous(live), mode);
      if (problems.length > 0) {
        const details = problems.map((problem) => formatIncompatibility(subject, problem)).join('; ');
        throw new RegistryError(409, 409, `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${details}]`);
      }
      const id = existingId ?? nextSchemaId(this.state);
      const changes: RegistryChange[] = existingId === undefined ? [{ type: 'schema', id, schema: text }] : [];
      changes.push({ type: 'version', subject, version: (this.state.subjects.get(subject)?.lastVersion ?? 0) + 1, id });
      await this.commit(changes);
      this.parsed.set(id, node);
      return { id };
    });
  }

  /** POST /subjects/{subject}: is this schema registered under the subject, and as which version? */
  lookup(subject: string, request: SchemaRequest): SubjectVersionView {
    const { text } = this.parseRequest(request);
    const live = liveVersions(this.state, subject);
    if (live.length === 0) throw subjectNotFound(subject);
    const id = this.state.idsBySchema.get(text);
    const entry = live.find((candidate) => candidate.id === id);
    if (!entry) throw schemaNotFound();
    return this.view(subject, entry);
  }

  subjects(includeDeleted: boolean): string[] {
    return [...this.state.subjects.entries()]
      .filter(([, entry]) => entry.versions.some((version) => includeDeleted || !version.deleted))
      .map(([subject]) => subject)
      .sort();
  }

  versions(subject: string, includeDeleted: boolean): number[] {
    const versions = (this.state.subjects.get(subject)?.versions ?? []).filter((entry) => includeDeleted || !entry.deleted);
    if (versions.length === 0) throw subjectNotFound(subject);
    return versions.map((entry) => entry.version);
  }

  version(subject: string, version: string, includeDeleted = false): SubjectVersionView {
    return this.view(subject, this.findVersion(subject, version, includeDeleted));
  }

  schemaById(id: number): { schema: string } {
    if (!this.isReferenced(id)) throw schemaNotFound(id);
    return { schema: this.state.schemas.get(id)! };
  }

  subjectVersionsOfSchema(id: number): { subject: string; version: number }[] {
    if (!this.isReferenced(id)) throw schemaNotFound(id);
    const found: { subject: string; version: number }[] = [];
    for (const [subject, entry] of this.state.subjects) {
      for (const version of entry.versions) if (version.id === id && !version.deleted) found.push({ subject, version: version.version });
    }
    return found;
  }

  /** Soft delete of every version; `permanent` removes versions already soft-deleted. */
  deleteSubject(subject: string, permanent: boolean): Promise<number[]> {
    return this.exclusive(async () => {
      const versions = this.state.subjects.get(subject)?.versions ?? [];
      if (versions.length === 0) throw subjectNotFound(subject);
      if (permanent && versions.some((entry) => !entry.deleted)) {
        throw new RegistryError(404, 40405, `Subject '${subject}' was not deleted first before being permanently deleted`);
      }
      const targets = permanent ? versions : versions.filter((entry) => !entry.deleted);
      if (targets.length === 0) throw subjectNotFound(subject);
      const changes: RegistryChange[] = targets.map((entry) => ({ type: 'delete-version', subject, version: entry.version, permanent }));
      if (permanent && this.state.subjectCompatibility.has(subject)) changes.push({ type: 'config', subject, compatibility: null });
      await this.commit(changes);
      return targets.map((entry) => entry.version);
    });
  }

  deleteVersion(subject: string, version: string, permanent: boolean): Promise<number> {
    return this.exclusive(async () => {
      const entry = this.findVersion(subject, version, permanent);
      if (permanent && !entry.deleted) {
        throw new RegistryError(404, 40407, `Subject '${subject}' Version ${entry.version} was not deleted first before being permanently deleted`);
      }
      await this.commit([{ type: 'delete-version', subject, version: entry.version, permanent }]);
      return entry.version;
    });
  }

  /** Would this schema be accepted? Against one version, or (version undefined) every version the mode checks. */
  testCompatibility(subject: string, version: string | undefined, request: SchemaRequest): { is_compatible: boolean; messages: string[] } {
    const { node } = this.parseRequest(request);
    const mode = this.compatibilityOf(subject);
    const live = liveVersions(this.state, subject);
    if (version !== undefined && live.length === 0) throw subjectNotFound(subject);
    const against = version === undefined ? live : [this.findVersion(subject, version, false)];
    // Against one given version, a transitive mode means its plain direction.
    const effectiveMode = version === undefined ? mode : (mode.replace('_TRANSITIVE', '') as CompatibilityMode);
    const problems = checkCompatibility(node, this.previous(against), effectiveMode);
    return { is_compatible: problems.length === 0, messages: problems.map((problem) => formatIncompatibility(subject, problem)) };
  }

  globalConfig(): { compatibilityLevel: CompatibilityMode } {
    return { compatibilityLevel: this.state.globalCompatibility };
  }

  subjectConfig(subject: string, defaultToGlobal: boolean): { compatibilityLevel: CompatibilityMode } {
    const own = this.state.subjectCompatibility.get(subject);
    if (own) return { compatibilityLevel: own };
    if (defaultToGlobal) return this.globalConfig();
    throw new RegistryError(404, 40408, `Subject '${subject}' does not have subject-level compatibility configured`);
  }

  setConfig(subject: string | null, body: unknown): Promise<{ compatibility: CompatibilityMode }> {
    return this.exclusive(async () => {
      const requested = (body as { compatibility?: unknown } | null)?.compatibility;
      const compatibility = typeof requested === 'string' ? requested.toUpperCase() : '';
      if (!(COMPATIBILITY_MODES as readonly string[]).includes(compatibility)) {
        throw new RegistryError(422, 42203, 'Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive');
      }
      await this.commit([{ type: 'config', subject, compatibility: compatibility as CompatibilityMode }]);
      return { compatibility: compatibility as CompatibilityMode };
    });
  }

  deleteSubjectConfig(subject: string): Promise<{ compatibilityLevel: CompatibilityMode }> {
    return this.exclusive(async () => {
      const current = this.subjectConfig(subject, false);
      await this.commit([{ type: 'config', subject, compatibility: null }]);
      return current;
    });
  }

  close(): Promise<void> {
    return this.exclusive(() => this.log.close());
  }

  private compatibilityOf(subject: string): CompatibilityMode {
    return this.state.subjectCompatibility.get(subject) ?? this.state.globalCompatibility;
  }

  private previous(entries: VersionEntry[]): { label: string; schema: AvroNode }[] {
    return entries.map((entry) => ({ label: `version ${entry.version}`, schema: this.parsedSchema(entry.id) }));
  }

  private parsedSchema(id: number): AvroNode {
    let node = this.parsed.get(id);
    if (!node) {
      node = parseAvroSchemaText(this.state.schemas.get(id)!);
      this.parsed.set(id, node);
    }
    return node;
  }

  /** Validates a request's schema; the canonical text (compact JSON) identifies it. */
  private parseRequest(request: SchemaRequest): { text: string; node: AvroNode } {
    if (request.schemaType !== undefined && request.schemaType !== null && request.schemaType !== 'AVRO') {
      throw invalidSchema(`this registry stores AVRO schemas only, not ${String(request.schemaType)}`);
    }
    if (Array.isArray(request.references) && request.references.length > 0) throw invalidSchema('schema references are not supported');
    if (typeof request.schema !== 'string') throw invalidSchema('the request needs a "schema" string');
    try {
      const node = parseAvroSchemaText(request.schema);
      return { text: JSON.stringify(JSON.parse(request.schema)), node };
    } catch (error) {
      throw invalidSchema((error as Error).message);
    }
  }

  private findVersion(subject: string, version: string, includeDeleted: boolean): VersionEntry {
    const all = (this.state.subjects.get(subject)?.versions ?? []).filter((entry) => includeDeleted || !entry.deleted);
    if (all.length === 0) throw subjectNotFound(subject);
    if (version === 'latest' || version === '-1') return all.at(-1)!;
    if (!/^\d+$/.test(version) || Number(version) < 1 || Number(version) > 2 ** 31 - 1) {
      throw new RegistryError(422, 42202, `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`);
    }
    const entry = all.find((candidate) => candidate.version === Number(version));
    if (!entry) throw versionNotFound(version);
    return entry;
  }

  private view(subject: string, entry: VersionEntry): SubjectVersionView {
    return { subject, version: entry.version, id: entry.id, schema: this.state.schemas.get(entry.id)! };
  }

  private isReferenced(id: number): boolean {
    if (!this.state.schemas.has(id)) return false;
    for (const entry of this.state.subjects.values()) if (entry.versions.some((version) => version.id === id)) return true;
    return false;
  }

  private async commit(changes: RegistryChange[]): Promise<void> {
    await this.log.append(changes);
    for (const change of changes) applyChange(this.state, change);
  }

  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
