/**
 * The registry's state and the changes that build it. Every mutation is a `RegistryChange`,
 * written to the log before it is applied, so replaying the log rebuilds the same state — ids
 * included — after a restart or a crash.
 */
import type { CompatibilityMode } from '../../schema/compatibility.js';

export interface VersionEntry {
  version: number;
  id: number;
  /** Soft-deleted: hidden from listings and compatibility checks, still readable by id. */
  deleted: boolean;
}

export interface SubjectEntry {
  versions: VersionEntry[];
  /** Highest version number ever given, so numbers are never reused. */
  lastVersion: number;
}

export interface RegistryState {
  /** id → schema text (canonical JSON); kept forever so a schema keeps its id. */
  schemas: Map<number, string>;
  idsBySchema: Map<string, number>;
  subjects: Map<string, SubjectEntry>;
  globalCompatibility: CompatibilityMode;
  subjectCompatibility: Map<string, CompatibilityMode>;
}

export type RegistryChange =
  | { type: 'schema'; id: number; schema: string }
  | { type: 'version'; subject: string; version: number; id: number }
  | { type: 'delete-version'; subject: string; version: number; permanent: boolean }
  | { type: 'config'; subject: string | null; compatibility: CompatibilityMode | null };

export function emptyState(): RegistryState {
  return { schemas: new Map(), idsBySchema: new Map(), subjects: new Map(), globalCompatibility: 'BACKWARD', subjectCompatibility: new Map() };
}

export function applyChange(state: RegistryState, change: RegistryChange): void {
  switch (change.type) {
    case 'schema':
      state.schemas.set(change.id, change.schema);
      state.idsBySchema.set(change.schema, change.id);
      return;
    case 'version': {
      const subject = state.subjects.get(change.subject) ?? { versions: [], lastVersion: 0 };
      subject.versions.push({ version: change.version, id: change.id, deleted: false });
      subject.lastVersion = Math.max(subject.lastVersion, change.version);
      state.subjects.set(change.subject, subject);
      return;
    }
    case 'delete-version': {
      const subject = state.subjects.get(change.subject);
      if (!subject) return;
      if (change.permanent) subject.versions = subject.versions.filter((entry) => entry.version !== change.version);
      else for (const entry of subject.versions) if (entry.version === change.version) entry.deleted = true;
      return;
    }
    case 'config':
      if (change.subject === null) state.globalCompatibility = change.compatibility ?? 'BACKWARD';
      else if (change.compatibility === null) state.subjectCompatibility.delete(change.subject);
      else state.subjectCompatibility.set(change.subject, change.compatibility);
      return;
  }
}

export function liveVersions(state: RegistryState, subject: string): VersionEntry[] {
  return (state.subjects.get(subject)?.versions ?? []).filter((entry) => !entry.deleted);
}

export function nextSchemaId(state: RegistryState): number {
  let highest = 0;
  for (const id of state.schemas.keys()) highest = Math.max(highest, id);
  return highest + 1;
}
