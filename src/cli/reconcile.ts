import type { Command } from 'commander';
import { Option } from 'commander';
import { ProblemFound } from '../errors.js';
import { checkReportFiles, runReconcileJob } from '../reconcile/job.js';
import { createReconcileMetrics } from '../reconcile/metrics.js';
import { ReconcileProgress } from '../reconcile/progress.js';
import { renderJson, renderText } from '../reconcile/report.js';
import { parseSchedule, startScheduledReconcile } from '../reconcile/schedule.js';
import { parsePort } from './arguments.js';
import { commandContext } from './context.js';

interface ReconcileFlags {
  tables?: string[];
  report: string[];
  repair?: boolean;
  schedule?: string;
  format: 'text' | 'json';
  metricsPort?: number;
}

const collect = (value: string, previous: string[]) => [...previous, value];
const tableList = (value: string, previous: string[] | undefined) => [...(previous ?? []), ...value.split(',').map((table) => table.trim()).filter(Boolean)];

export function registerReconcileCommand(program: Command): void {
  program
    .command('reconcile')
    .description('compare the new tables with the legacy data as the mappings map it; report, alert, repair')
    .option('--tables <tables>', 'target tables to compare, comma-separated (default: every mapped target)', tableList)
    .option('--report <file>', 'write a report: FILE.html, FILE.md or FILE.json (repeatable)', collect, [])
    .option('--repair', 'rewrite drifted target rows from the legacy rows through the mappings, then recheck them')
    .option('--schedule <cron>', 'keep running: a run at each cron tick, never overlapping, with /metrics and /health')
    .addOption(new Option('--format <format>', 'output format of a one-shot run').choices(['text', 'json']).default('text'))
    .addOption(new Option('--metrics-port <port>', 'port of /metrics and /health with --schedule (default: reconcile.metricsPort)').argParser(parsePort))
    .addHelpText(
      'after',
      `
Exit codes (one-shot): 0 no drift (or all drift repaired), 2 drift, 1 error. A run while capture
still snapshots a table is INCOMPLETE: the tables it feeds are not compared (exit 0, and rollout
does not count the run as clean).

Examples:
  $ tandem reconcile --config connectors/demo.ts
  $ tandem reconcile --tables app.customer,app.account --report drift.html --report drift.json
  $ tandem reconcile --repair
  $ tandem reconcile --schedule "*/15 * * * *" --metrics-port 9466`,
    )
    .action(async (flags: ReconcileFlags, command: Command) => {
      const context = commandContext(command);
      checkReportFiles(flags.report);
      if (flags.schedule) parseSchedule(flags.schedule).stop();
      const connector = await context.connector();
      const { logger } = context;

      if (flags.schedule) {
        const stopRequested = new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        const scheduled = await startScheduledReconcile(connector, flags.schedule, { tables: flags.tables, reports: flags.report, repair: flags.repair, logger, metricsPort: flags.metricsPort });
        await stopRequested;
        logger.info('stopping the reconcile schedule (after the run in progress, if any)');
        await scheduled.stop();
        return;
      }

      const progress = new ReconcileProgress(logger);
      const controller = new AbortController();
      const cancel = () => controller.abort(new Error('reconcile cancelled (SIGINT/SIGTERM)'));
      process.once('SIGINT', cancel);
      process.once('SIGTERM', cancel);
      try {
        const { report } = await runReconcileJob(connector, { tables: flags.tables, reports: flags.report, repair: flags.repair, logger, metrics: createReconcileMetrics(), onProgress: progress.update, signal: controller.signal });
        progress.stop();
        process.stdout.write(flags.format === 'json' ? renderJson(report) : renderText(report));
        const left = report.repair ? report.repair.recheckDrift : report.drift;
        if (left > 0) throw new ProblemFound(`reconcile ${connector.name}: ${left} drifted row(s)${report.repair ? ' left after repair' : ''}`, { fix: report.repair ? 'rows changed again while being repaired: run reconcile again' : 'look at the report; run with --repair to rewrite them from legacy' });
      } finally {
        progress.stop();
        process.off('SIGINT', cancel);
        process.off('SIGTERM', cancel);
      }
    });
}
