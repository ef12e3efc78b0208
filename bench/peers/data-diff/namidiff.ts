/**
 * The data-diff peer: `namidiff` (PyPI), the maintained fork of data-diff / reladiff, with its
 * default settings (hashdiff across two connections: bisection factor 32, threshold 16384). PyPI's
 * `data-diff` itself no longer installs (its dbt dependency downloads a wheel from GitHub at build
 * time), so the fork stands in for it. Installed with pip on first use.
 */
import { spawnSync } from 'node:child_process';

export function ensureNamidiff(): string {
  const found = spawnSync('namidiff', ['--version'], { encoding: 'utf8' });
  if (found.status === 0) return found.stdout.trim();
  const install = spawnSync('pip', ['install', '--quiet', 'namidiff', 'psycopg2-binary'], { encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] });
  if (install.status !== 0) throw new Error('pip install namidiff psycopg2-binary failed; install them by hand (pip install namidiff psycopg2-binary)');
  return spawnSync('namidiff', ['--version'], { encoding: 'utf8' }).stdout.trim();
}

export interface NamidiffRun {
  seconds: number;
  /** Lines of `+`/`-` rows it printed (one per differing row version). */
  differences: number;
}

/** `namidiff <db_a> <table_a> <db_b> <table_b> -k key -c col …` (the cross-database hashdiff). */
export function runNamidiff(urlA: string, tableA: string, urlB: string, tableB: string, key: string, columns: readonly string[]): NamidiffRun {
  const started = process.hrtime.bigint();
  const run = spawnSync('namidiff', [urlA, tableA, urlB, tableB, '-k', key, ...columns.flatMap((column) => ['-c', column])], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (run.status !== 0) throw new Error(`namidiff failed (exit ${run.status}): ${run.stderr.slice(-2000)}`);
  return { seconds, differences: run.stdout.split('\n').filter((line) => /^[+-] /.test(line)).length };
}
