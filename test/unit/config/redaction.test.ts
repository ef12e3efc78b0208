import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { redactSecrets, registerSecret } from '../../../src/observability/redact.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ destination, pretty: false, level: 'debug' }), output: () => lines.join('') };
}

describe('secret redaction', () => {
  it('masks passwords in connection URLs and key=value strings', () => {
    expect(redactSecrets('connecting to postgres://app:hunter22@db:5432/legacy')).toBe('connecting to postgres://app:***@db:5432/legacy');
    expect(redactSecrets('host=db password=hunter22 user=app')).toBe('host=db password=*** user=app');
  });

  it('never writes a connection string password, secret field or env() secret to the log', () => {
    registerSecret('tok-9f8e7d6c');
    const { logger, output } = capture();
    logger.info({ url: 'postgresql://app:hunter22@db/legacy', sasl: { username: 'svc', password: 'kafka-pw' } }, 'source postgres://x:hunter22@db failed');
    logger.error({ err: new Error('auth failed for postgres://app:hunter22@db') }, 'token tok-9f8e7d6c rejected');
    const text = output();
    expect(text).not.toContain('hunter22');
    expect(text).not.toContain('kafka-pw');
    expect(text).not.toContain('tok-9f8e7d6c');
    expect(text).toContain('postgresql://app:***@db/legacy');
    expect(JSON.parse(text.split('\n')[0]!)).toMatchObject({ level: 30, sasl: { username: 'svc', password: '***' } });
  });
});
