import cliProgress from 'cli-progress';
import type { Logger } from '../observability/logger.js';

/**
 * Snapshot progress: a bar with rows, rows/s and ETA on a terminal; a log line every few seconds
 * otherwise (workers in containers).
 */
export class SnapshotProgress {
  private bar: cliProgress.SingleBar | null = null;
  private rows = 0;
  private total = 0;
  private started = Date.now();
  private lastLog = 0;

  private readonly interactive = Boolean(process.stderr.isTTY);

  constructor(private readonly logger: Logger) {}

  startTable(table: string, estimatedRows: number): void {
    this.finishTable();
    this.rows = 0;
    this.total = estimatedRows;
    this.started = Date.now();
    this.logger.info({ table, estimatedRows }, `snapshot of ${table} started`);
    if (this.interactive) {
      this.bar = new cliProgress.SingleBar(
        { format: `${table} [{bar}] {percentage}% | {value}/{total} rows | {speed} rows/s | ETA {eta_formatted}`, stream: process.stderr, etaBuffer: 50 },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(this.total, this.rows, { speed: 0 });
    }
  }

  advance(table: string, rows: number): void {
    this.rows += rows;
    if (this.rows > this.total) this.total = this.rows;
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001);
    const speed = Math.round(this.rows / seconds);
    if (this.bar) {
      this.bar.setTotal(this.total);
      this.bar.update(this.rows, { speed });
    } else if (Date.now() - this.lastLog > 5000) {
      this.lastLog = Date.now();
      const etaSeconds = speed > 0 ? Math.round((this.total - this.rows) / speed) : null;
      this.logger.info({ table, rows: this.rows, estimatedRows: this.total, rowsPerSecond: speed, etaSeconds }, `snapshot of ${table}: ${this.rows} rows`);
    }
  }

  finishTable(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
