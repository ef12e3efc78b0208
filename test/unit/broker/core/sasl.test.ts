import { describe, expect, it } from 'vitest';
import { plainTokenMatches } from '../../../../src/embedded/broker/sasl.js';

const expected = { username: 'app', password: 's3cret' };
const token = (text: string) => Buffer.from(text.replaceAll('|', '\u0000'));

describe('SASL/PLAIN token check', () => {
  it('accepts the configured user and password, with or without an authorization id', () => {
    expect(plainTokenMatches(token('|app|s3cret'), expected)).toBe(true);
    expect(plainTokenMatches(token('app|app|s3cret'), expected)).toBe(true);
  });

  it('refuses a wrong password, another user, or acting for someone else', () => {
    expect(plainTokenMatches(token('|app|nope'), expected)).toBe(false);
    expect(plainTokenMatches(token('|root|s3cret'), expected)).toBe(false);
    expect(plainTokenMatches(token('root|app|s3cret'), expected)).toBe(false);
  });

  it('refuses a malformed token', () => {
    expect(plainTokenMatches(token('app|s3cret'), expected)).toBe(false);
    expect(plainTokenMatches(Buffer.alloc(0), expected)).toBe(false);
  });
});
