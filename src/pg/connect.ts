import pg from 'pg';
import { TandemError } from '../errors.js';
import { redactSecrets } from '../observability/redact.js';

/**
 * Session settings for connections to the source: capture parses PostgreSQL's text output
 * exactly, so dates must be ISO, intervals in the postgres style, floats round-trippable, bytea in
 * hex and time zones UTC, whatever the server's defaults are.
 */
export const SOURCE_SESSION_OPTIONS = '-c DateStyle=ISO,YMD -c IntervalStyle=postgres -c extra_float_digits=3 -c bytea_output=hex -c TimeZone=UTC';

/** Where a connection string points, without its password: for messages. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return redactSecrets(url);
  }
}

/**
 * Opens a client, turning connection failures into messages that name the server and the fix
 * (the raw pg errors say only ECONNREFUSED or 28P01).
 */
export async function connectClient(url: string, role: string, extra: pg.ClientConfig = {}): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, ...extra });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw connectionError(error, url, role);
  }
  return client;
}

export function connectionError(error: unknown, url: string, role: string): TandemError {
  const code = (error as { code?: string }).code;
  const where = `${role} database ${describeUrl(url)}`;
  const reason = redactSecrets((error as Error).message ?? String(error));
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EHOSTUNREACH':
    case 'ETIMEDOUT':
      return new TandemError(`${where} is unreachable (${reason})`, { fix: 'check the host and port in the connection URL and that PostgreSQL is running' });
    case '28P01':
    case '28000':
      return new TandemError(`${where} refused the login (${reason})`, { fix: 'check the user name and password in the connection URL' });
    case '3D000':
      return new TandemError(`${where} does not exist (${reason})`, { fix: 'create the database or correct its name in the URL' });
    default:
      return new TandemError(`${where}: ${reason}`, { fix: 'check the connection URL and the server log' });
  }
}
