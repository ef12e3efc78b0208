/**
 * Secret redaction shared by the logger and error output. Connection strings and passwords can
 * reach a log line through many routes (a pg error message, a config dump, a URL in a field), so
 * we scrub every string rather than relying on known field paths alone.
 */
const secrets = new Set<string>();

/** Values resolved from env('...') in connector files: masked wherever they appear. */
export function registerSecret(value: string): void {
  if (value.length >= 4) secrets.add(value);
}

/** The registered secrets, for a worker thread's own redactor. */
export function knownSecrets(): string[] {
  return [...secrets];
}

const MASK = '***';
// scheme://user:password@host  →  scheme://user:***@host
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@\s/]+)(@)/gi;
// password=secret, "password":"secret", sasl password: secret (libpq key/value strings and dumps)
const KEY_VALUE_PASSWORD = /((?:password|passwd|pwd|secret|token|api[_-]?key)["']?\s*[:=]\s*["']?)([^"'\s,;&}]+)/gi;

export function redactSecrets(text: string): string {
  let out = text.replace(URL_PASSWORD, `$1${MASK}$3`).replace(KEY_VALUE_PASSWORD, `$1${MASK}`);
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
  }
  return out;
}

const SECRET_KEYS = /^(password|passwd|pwd|secret|token|apiKey|api_key|authorization)$/i;

/** Deep copy of a log object with secret-looking keys masked and every string scrubbed. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) {
    return { type: value.name, message: redactSecrets(value.message), stack: value.stack && redactSecrets(value.stack) };
  }
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEYS.test(key) && item != null ? MASK : redactValue(item, depth + 1);
  }
  return out;
}
