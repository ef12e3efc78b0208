import cliProgress from 'cli-progress';
import type { Logger } from '../observability/logger.js';
import type { TableProgress } from './run.js';

/**
 * Per-table progress: a bar with rows compared, rows/s and ETA on a terminal; a log line every few
 * seconds (and when a table is done) otherwise.
 */
export class ReconcileProgress {
  private bar: cliProgress.SingleBar | null = null;
  private table: string | null = null;
  private lastLog = 0;

  constructor(
    private readonly logger: Logger,
    private readonly interactive = Boolean(process.stderr.isTTY),
  ) {}

  update = (progress: TableProgress): void => {
    if (progress.table !== this.table) {
      this.stop();
      this.table = progress.table;
      this.lastLog = Date.now();
      if (this.interactive) {
        this.bar = new cliProgress.SingleBar(
          { format: `${progress.table} [{bar}] {percentage}% | {value}/{total} rows | {speed} rows/s | ETA {eta}`, stream: process.stderr, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        this.bar.start(progress.estimatedRows, 0, { speed: 0, eta: '?' });
      }
    }
    const speed = Math.round(progress.rowsPerSecond);
    if (this.bar) {
      this.bar.setTotal(progress.estimatedRows);
      this.bar.update(progress.rowsCompared, { speed, eta: progress.etaSeconds === null ? '?' : `${Math.round(progress.etaSeconds)}s` });
      if (progress.done) this.stop();
    } else if (progress.done || Date.now() - this.lastLog > 5000) {
      this.lastLog = Date.now();
      this.logger.info(
        { table: progress.table, rowsCompared: progress.rowsCompared, estimatedRows: progress.estimatedRows, rowsPerSecond: speed, etaSeconds: progress.etaSeconds === null ? null : Math.round(progress.etaSeconds) },
        progress.done ? `${progress.table}: ${progress.rowsCompared} rows compared (${speed} rows/s)` : `${progress.table}: ${progress.rowsCompared} of ~${progress.estimatedRows} rows compared`,
      );
    }
  };

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
