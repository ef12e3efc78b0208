/**
 * Replication origins mark the transactions translate applies, so capture on the same database
 * (pgoutput's `origin 'none'`, PostgreSQL 16+) leaves them out: with reverse sync running beside
 * the forward pipeline, a write is carried to the other side once and never echoed back.
 *
 * PostgreSQL lets one session at a time use an origin, and translate applies with a pool of
 * connections (and may run as several workers), so each connection takes the first free origin of
 * `tandem_<connector>`, `tandem_<connector>_2`, … creating it when missing. Which one does not
 * matter: capture leaves out changes of any origin. The session keeps its origin until it closes,
 * then drops it: PostgreSQL keeps a slot of max_replication_slots for every origin until it is
 * dropped, so origins left behind (by a crash) would use them up over time.
 */
import pg from 'pg';
import { TandemError } from '../errors.js';
import { describeUrl } from './connect.js';
import { quoteIdent } from './identifiers.js';

/** The origin name of a connector's translate; the reverse connector (`<name>-reverse`) gets `tandem_<name>_reverse`. */
export function replicationOriginName(connectorName: string): string {
  return `tandem_${connectorName.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** The functions translate calls; without superuser the role needs EXECUTE on each. */
export const REPLICATION_ORIGIN_FUNCTIONS = [
  'pg_replication_origin_create(text)',
  'pg_replication_origin_session_setup(text)',
  'pg_replication_origin_session_reset()',
  'pg_replication_origin_drop(text)',
] as const;

export function originGrantStatements(role: string): string {
  return REPLICATION_ORIGIN_FUNCTIONS.map((fn) => `GRANT EXECUTE ON FUNCTION ${fn} TO ${quoteIdent(role)};`).join(' ');
}

export function originPrivilegeError(role: string, url: string, origin: string): TandemError {
  return new TandemError(
    `role ${role} may not use replication origins on ${describeUrl(url)}: translate marks what it applies with origin ${origin} so that capture does not send it back`,
    { fix: `as a superuser on that database: ${originGrantStatements(role)}` },
  );
}

const INSUFFICIENT_PRIVILEGE = '42501';
const UNIQUE_VIOLATION = '23505';
const OBJECT_IN_USE = '55006';
const UNDEFINED_OBJECT = '42704';
const CONFIGURATION_LIMIT_EXCEEDED = '53400';

/**
 * Sets up a replication origin for the session: every transaction it commits from now on carries
 * it. Returns the origin's name.
 */
export async function setupReplicationOrigin(client: pg.ClientBase, baseName: string, url: string): Promise<string> {
  // Ends: every origin tried is either taken by another session (each holding one of the
  // max_replication_slots state slots) or set up, so PostgreSQL reports 53400 before we run out.
  for (let index = 1; ; index++) {
    const name = index === 1 ? baseName : `${baseName}_${index}`;
    try {
      try {
        await client.query('SELECT pg_replication_origin_create($1) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_origin WHERE roname = $1)', [name]);
      } catch (error) {
        // Another worker created it between our look and our create.
        if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      }
      await client.query('SELECT pg_replication_origin_session_setup($1)', [name]);
      return name;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === OBJECT_IN_USE) continue;
      // Dropped by a closing connection between our create and our setup: create it again.
      if (code === UNDEFINED_OBJECT) {
        index--;
        continue;
      }
      if (code === INSUFFICIENT_PRIVILEGE) {
        const { rows } = await client.query<{ role: string }>('SELECT current_user AS role');
        throw originPrivilegeError(rows[0]!.role, url, name);
      }
      if (code === CONFIGURATION_LIMIT_EXCEEDED) {
        throw new TandemError(`no free replication origin slot on ${describeUrl(url)} for ${name}: every translate connection holds one origin`, {
          fix: 'raise max_replication_slots (restart needed), or lower translate.concurrency; drop origins no longer used with SELECT pg_replication_origin_drop(name)',
          cause: error,
        });
      }
      throw error;
    }
  }
}

/**
 * A pg.Client class for translate's pool: a connection is handed out only after its origin is set
 * up, and a connection that cannot set one up fails to connect (so translate does not start).
 */
export function originClient(baseName: string, url: string): typeof pg.Client {
  return class OriginClient extends pg.Client {
    private origin: string | null = null;

    override connect(): Promise<pg.Client>;
    override connect(callback: (err: Error | null) => void): void;
    override connect(callback?: (err: Error | null) => void): Promise<pg.Client> | void {
      const ready = super.connect().then(async () => {
        try {
          this.origin = await setupReplicationOrigin(this, baseName, url);
        } catch (error) {
          await this.end().catch(() => undefined);
          throw error;
        }
        return this as pg.Client;
      });
      if (!callback) return ready;
      ready.then(() => callback(null), (error: Error) => callback(error));
    }

    override end(): Promise<void>;
    override end(callback: (err: Error) => void): void;
    override end(callback?: (err: Error) => void): Promise<void> | void {
      const origin = this.origin;
      this.origin = null;
      // Best effort: another session using the origin (55006), a broken connection or an aborted
      // transaction leaves it for a later drop; the name is reused by the next connection anyway.
      const release = origin
        ? this.query('SELECT pg_replication_origin_session_reset()')
            .then(() => this.query('SELECT pg_replication_origin_drop($1)', [origin]))
            .then(() => undefined, () => undefined)
        : Promise.resolve();
      const ended = release.then(() => super.end());
      if (!callback) return ended;
      ended.then(() => (callback as () => void)(), callback);
    }
  };
}
