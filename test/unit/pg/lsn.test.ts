import { describe, expect, it } from 'vitest';
import { formatLsn, parseLsn } from '../../../src/pg/lsn.js';

describe('LSNs', () => {
  it('parses both halves as hexadecimal, upper and lower case, exact beyond 2^53', () => {
    expect(parseLsn('0/0')).toBe(0n);
    expect(parseLsn('16/B374D848')).toBe((0x16n << 32n) | 0xb374d848n);
    expect(parseLsn('16/b374d848')).toBe((0x16n << 32n) | 0xb374d848n);
    expect(parseLsn('1FFFFF/FFFFFFFF')).toBe(2n ** 53n - 1n);
    expect(parseLsn('200000/1')).toBe(2n ** 53n + 1n);
    expect(parseLsn('FFFFFFFF/FFFFFFFF')).toBe(2n ** 64n - 1n);
  });

  it('reads and prints LSNs (reconcile cuts and rollout evidence use these too)', () => {
    expect(parseLsn('16/B374D848')).toBe(0x16b374d848n);
    expect(formatLsn(0x16b374d848n)).toBe('16/B374D848');
    expect(formatLsn(parseLsn('0/0'))).toBe('0/0');
  });

  it('formats what it parses back to the same text', () => {
    for (const text of ['0/0', '16/B374D848', '1FFFFF/FFFFFFFF', '200000/1', 'FFFFFFFF/FFFFFFFF', 'A/1']) expect(formatLsn(parseLsn(text))).toBe(text);
  });

  it('refuses anything but 1 to 8 hex digits, a slash, 1 to 8 hex digits', () => {
    for (const text of ['', '/', '0/', '/0', '0', '0/0/0', '123456789/0', '0/123456789', 'G/0', '0/-1', ' 0/0', '0/0 ', '0x1/0']) {
      expect(() => parseLsn(text), text).toThrow(`invalid LSN "${text}"`);
    }
  });
});
