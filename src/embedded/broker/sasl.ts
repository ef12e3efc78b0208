import { createHash, timingSafeEqual } from 'node:crypto';

export const SASL_MECHANISM = 'PLAIN';

/**
 * Checks a SASL/PLAIN token (RFC 4616: `[authzid] NUL authcid NUL passwd`) against the configured
 * credentials. Compares digests in constant time so the answer time says nothing about the password.
 */
export function plainTokenMatches(token: Buffer, expected: { username: string; password: string }): boolean {
  const parts = token.toString('utf8').split('\u0000');
  if (parts.length !== 3) return false;
  const [authzid, username, password] = parts;
  if (authzid !== '' && authzid !== username) return false;
  return sameSecret(username, expected.username) && sameSecret(password, expected.password);
}

function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
