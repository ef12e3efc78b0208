/** PostgreSQL log sequence numbers, "16/B374D848", as bigint for comparison and arithmetic. */
export type Lsn = bigint;

/** 2^32 */
const HIGH = 0x1_0000_0000;

/**
 * Parsed on every WAL message, so by hand: a regex with captures and two hexadecimal BigInt
 * parses cost several times more. Below 2^53 (any LSN whose upper half is under 2^21, i.e. the
 * first 8 PiB of WAL) the value is built as a number, exactly, and converted once.
 */
export function parseLsn(text: string): Lsn {
  const slash = text.indexOf('/');
  const high = hexHalf(text, 0, slash);
  const low = hexHalf(text, slash + 1, text.length);
  if (high < 0 || low < 0) throw new Error(`invalid LSN "${text}"`);
  return high < 0x20_0000 ? BigInt(high * HIGH + low) : (BigInt(high) << 32n) | BigInt(low);
}

/** The value of 1 to 8 hexadecimal digits text[start..end), or -1. */
function hexHalf(text: string, start: number, end: number): number {
  if (start < 0 || end - start < 1 || end - start > 8) return -1;
  let value = 0;
  for (let index = start; index < end; index++) {
    const code = text.charCodeAt(index);
    const digit = code >= 48 && code <= 57 ? code - 48 : code >= 65 && code <= 70 ? code - 55 : code >= 97 && code <= 102 ? code - 87 : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

export function formatLsn(lsn: Lsn): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}
