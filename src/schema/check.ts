/**
 * `tandem schemas check`: every schema file against its previous versions (and, with --live,
 * against the database), reported as text, JSON or GitHub Actions annotations.
 */
import { checkCompatibility, formatIncompatibility, type CompatibilityMode, type Incompatibility } from './compatibility.js';
import type { Drift } from './drift.js';
import type { VersionSource } from './previous-versions.js';
import type { SchemaFile } from './schema-files.js';

export type ReportFormat = 'text' | 'json' | 'github';

export interface SubjectVerdict {
  subject: string;
  file: string;
  /** `new`: no previous version to be compatible with. */
  status: 'ok' | 'new' | 'incompatible';
  mode: CompatibilityMode;
  incompatibilities: Incompatibility[];
}

export interface DriftVerdict {
  subject: string;
  /** The schema file, or where it should be when missing. */
  file: string;
  drift: Drift[];
}

export interface CheckReport {
  against: string;
  verdicts: SubjectVerdict[];
  /** Present with --live. */
  drift?: DriftVerdict[];
}

/**
 * Checks each file against its previous versions. The mode is the one given, else the one the
 * source prescribes for the subject (a registry's level), else BACKWARD like Confluent's default.
 */
export async function checkSchemaFiles(files: SchemaFile[], source: VersionSource, mode?: CompatibilityMode): Promise<SubjectVerdict[]> {
  const verdicts: SubjectVerdict[] = [];
  for (const file of files) {
    const subjectMode = mode ?? (await source.mode?.(file.subject)) ?? 'BACKWARD';
    const previous = subjectMode === 'NONE' ? [] : await source.versions(file, subjectMode.endsWith('_TRANSITIVE'));
    const incompatibilities = checkCompatibility(file.schema, previous, subjectMode);
    const status = incompatibilities.length > 0 ? 'incompatible' : previous.length === 0 && subjectMode !== 'NONE' ? 'new' : 'ok';
    verdicts.push({ subject: file.subject, file: file.file, status, mode: subjectMode, incompatibilities });
  }
  return verdicts;
}

export function hasProblems(report: CheckReport): boolean {
  return report.verdicts.some((verdict) => verdict.status === 'incompatible') || (report.drift ?? []).some((verdict) => verdict.drift.length > 0);
}

/** What to do about the problems found. */
export function fixFor(report: CheckReport): string {
  const drifted = (report.drift ?? []).some((verdict) => verdict.drift.length > 0);
  const incompatible = report.verdicts.some((verdict) => verdict.status === 'incompatible');
  const fixes = [];
  if (incompatible) fixes.push('make the change compatible (new fields nullable or with a default, renames with aliases), or choose another --mode deliberately');
  if (drifted) fixes.push('run `tandem schemas generate` and commit the schema files');
  return fixes.join('; ');
}

export function summarize(report: CheckReport): string {
  const incompatible = report.verdicts.filter((verdict) => verdict.status === 'incompatible').length;
  const drifted = (report.drift ?? []).filter((verdict) => verdict.drift.length > 0).length;
  const parts = [];
  const subjects = (count: number) => (count === 1 ? '1 subject' : `${count} subjects`);
  if (incompatible > 0) parts.push(`${incompatible} of ${subjects(report.verdicts.length)} incompatible with ${report.against}`);
  if (drifted > 0) parts.push(`${subjects(drifted)} drifted from the database`);
  return `schemas check: ${parts.join('; ')}`;
}

/** The report as the CLI prints it; `fileTexts` (file → content) lets GitHub annotations point at lines. */
export function formatReport(report: CheckReport, format: ReportFormat, fileTexts: Map<string, string> = new Map()): string {
  if (format === 'json') return `${JSON.stringify(jsonReport(report), null, 2)}\n`;
  const lines: string[] = [];
  for (const verdict of report.verdicts) {
    if (verdict.status !== 'incompatible') {
      lines.push(verdict.status === 'new' ? `${verdict.subject}: ok (new subject)` : `${verdict.subject}: ok (${verdict.mode} against ${report.against})`);
      continue;
    }
    for (const incompatibility of verdict.incompatibilities) {
      const message = formatIncompatibility(verdict.subject, incompatibility);
      if (format === 'github') {
        const line = lineOf(fileTexts.get(verdict.file), incompatibility.path);
        lines.push(annotation(verdict.file, line, `${verdict.subject} breaks ${verdict.mode}`, message.slice(verdict.subject.length + 2)));
      } else {
        lines.push(message);
      }
    }
  }
  for (const verdict of report.drift ?? []) {
    if (verdict.drift.length === 0) {
      lines.push(`${verdict.subject}: matches the database`);
      continue;
    }
    for (const drift of verdict.drift) {
      const detail = `${drift.path ? `${drift.path}: ` : ''}${drift.description}`;
      if (format === 'github') lines.push(annotation(verdict.file, lineOf(fileTexts.get(verdict.file), drift.path), `${verdict.subject} drifted from the database`, detail));
      else lines.push(`${verdict.subject}: drift: ${detail}`);
    }
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

function jsonReport(report: CheckReport) {
  return {
    against: report.against,
    ok: !hasProblems(report),
    subjects: report.verdicts.map((verdict) => ({
      subject: verdict.subject,
      file: verdict.file,
      status: verdict.status,
      mode: verdict.mode,
      incompatibilities: verdict.incompatibilities.map((incompatibility) => ({ ...incompatibility, message: formatIncompatibility(verdict.subject, incompatibility) })),
    })),
    ...(report.drift ? { drift: report.drift } : {}),
  };
}

/** `::error file=…,line=…,title=…::message`, escaped as GitHub Actions workflow commands require. */
function annotation(file: string, line: number | undefined, title: string, message: string): string {
  const property = (value: string) => escapeData(value).replace(/:/g, '%3A').replace(/,/g, '%2C');
  const location = line === undefined ? '' : `,line=${line}`;
  return `::error file=${property(file)}${location},title=${property(title)}::${escapeData(message)}`;
}

function escapeData(value: string): string {
  return value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** The line declaring the deepest field of a path still in the file (`after.email` → `"name": "email"`, else `"name": "after"`). */
function lineOf(text: string | undefined, schemaPath: string): number | undefined {
  if (!text) return undefined;
  const fields = schemaPath.split('.').map((segment) => segment.replace(/(\[\]|\{\})+$/, ''));
  for (const field of fields.reverse()) {
    const index = text.search(new RegExp(`"name"\\s*:\\s*"${field}"`));
    if (index >= 0) return text.slice(0, index).split('\n').length;
  }
  return undefined;
}
