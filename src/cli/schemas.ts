import type { Command } from 'commander';
import { Option } from 'commander';
import { ProblemFound } from '../errors.js';
import { checkSchemaFiles, fixFor, formatReport, hasProblems, summarize, type CheckReport, type ReportFormat } from '../schema/check.js';
import { parseCompatibilityMode } from '../schema/compatibility.js';
import { deriveConnectorSchemas, driftAgainstFiles } from '../schema/live-schemas.js';
import { openVersionSource, parseVersionSource } from '../schema/previous-versions.js';
import { readSchemaDir, writeSchemaFile } from '../schema/schema-files.js';
import { commandContext } from './context.js';

export function registerSchemasCommand(program: Command): void {
  const schemas = program.command('schemas').description('Avro schemas of the change events: generate them from the tables, check their compatibility');

  schemas
    .command('generate')
    .description("write each source table's key and value schemas to <dir>/<topic>-key.avsc and <topic>-value.avsc")
    .option('--dir <dir>', 'where to write the .avsc files', 'schemas')
    .addHelpText(
      'after',
      `
Examples:
  $ tandem schemas generate --config connectors/demo.ts
  $ tandem schemas generate --dir build/schemas`,
    )
    .action(async (options: { dir: string }, command: Command) => {
      const context = commandContext(command);
      const { subjects, warnings } = await deriveConnectorSchemas(await context.connector());
      for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
      for (const subject of subjects) {
        const file = await writeSchemaFile(options.dir, subject.subject, subject.schema);
        process.stdout.write(`wrote ${file}\n`);
      }
    });

  schemas
    .command('check')
    .description('check every schema file against its previous versions (and, with --live, against the database)')
    .option('--dir <dir>', 'directory of the .avsc files', 'schemas')
    .option('--mode <mode>', 'BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE or NONE (default: the registry subject level, else BACKWARD)')
    .option('--against <source>', 'previous versions: git:<ref>, registry:<url> or dir:<path>', 'git:HEAD')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'github']).default('text'))
    .option('--live', 'also compare the files with the live table definitions (needs --config)')
    .addHelpText(
      'after',
      `
Exit codes: 0 all compatible, 2 a subject is incompatible or drifted, 1 the check could not run.

Examples:
  $ tandem schemas check --against git:origin/main --mode FULL
  $ tandem schemas check --against registry:http://localhost:8081 --format github
  $ tandem schemas check --live --config connectors/demo.ts`,
    )
    .action(async (options: { dir: string; mode?: string; against: string; format: ReportFormat; live?: boolean }, command: Command) => {
      const context = commandContext(command);
      const mode = options.mode === undefined ? undefined : parseCompatibilityMode(options.mode);
      const source = openVersionSource(parseVersionSource(options.against));
      const files = await readSchemaDir(options.dir);
      const report: CheckReport = { against: source.label, verdicts: await checkSchemaFiles(files, source, mode) };
      if (options.live) {
        const live = await deriveConnectorSchemas(await context.connector());
        for (const warning of live.warnings) process.stderr.write(`warning: ${warning}\n`);
        report.drift = driftAgainstFiles(live.subjects, files, options.dir);
      }
      process.stdout.write(formatReport(report, options.format, new Map(files.map((file) => [file.file, file.text]))));
      if (hasProblems(report)) throw new ProblemFound(summarize(report), { fix: fixFor(report) });
    });
}
