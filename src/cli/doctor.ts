import type { Command } from 'commander';
import { Option } from 'commander';
import { ProblemFound } from '../errors.js';
import { doctorFailed, runDoctor } from '../doctor/checks.js';
import { commandContext } from './context.js';
import { renderTable } from './format.js';

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description("check a connector's prerequisites: servers, wal_level, privileges, slots, tables, publication")
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .addHelpText(
      'after',
      `
Exit codes: 0 all checks passed, 2 a check failed, 1 the checks could not run.

Examples:
  $ tandem doctor --config connectors/demo.ts
  $ tandem doctor --format json | jq '.[] | select(.status == "fail")'`,
    )
    .action(async (options: { format: 'text' | 'json' }, command: Command) => {
      const context = commandContext(command);
      const connector = await context.connector();
      const results = await runDoctor(connector, context.logger);
      if (options.format === 'json') {
        process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
      } else {
        const rows = results.map((result) => [result.check, result.status.toUpperCase(), result.detail, result.fix ?? '']);
        process.stdout.write(`${renderTable(['CHECK', 'STATUS', 'DETAIL', 'HOW TO FIX'], rows)}\n`);
      }
      const failed = results.filter((result) => result.status === 'fail').length;
      if (doctorFailed(results)) throw new ProblemFound(`doctor: ${failed} of ${results.length} checks failed for connector ${connector.name}`);
    });
}
