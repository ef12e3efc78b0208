/**
 * Avro decimal: the unscaled integer (value × 10^scale) as big-endian two's-complement bytes.
 * Exact in both directions, via bigint and decimal strings (never a JavaScript number).
 */

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** `-12.5` at scale 2 → bytes of -1250. Throws when the value needs more digits than allowed. */
export function decimalToBytes(text: string, precision: number, scale: number): Buffer {
  // Capture converts every numeric column value: the common form takes no regex and no strings.
  const unscaled = plainUnscaled(text, scale);
  if (unscaled !== null && Math.abs(unscaled) < 10 ** precision) return safeIntegerToBytes(unscaled);
  return parsedToBytes(text, precision, scale);
}

/**
 * The unscaled value of plain decimal text (`-12.5`: an optional minus, digits, at most one point,
 * at most `scale` decimals) when it is exact as a double (15 digits at most once scaled); null for
 * anything else (exponents, a plus sign, blanks, more digits), which the general parser handles.
 */
function plainUnscaled(text: string, scale: number): number | null {
  let index = text.charCodeAt(0) === 45 ? 1 : 0;
  const negative = index === 1;
  let value = 0;
  let digits = 0;
  let decimals = -1; // -1: no point yet
  for (; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 48 && code <= 57) {
      value = value * 10 + (code - 48);
      digits++;
      if (decimals >= 0) decimals++;
    } else if (code === 46 && decimals < 0) {
      decimals = 0;
    } else {
      return null;
    }
  }
  const shift = scale - Math.max(decimals, 0);
  if (digits === 0 || shift < 0 || digits + shift > 15) return null;
  value *= 10 ** shift;
  return negative ? -value : value;
}

function parsedToBytes(text: string, precision: number, scale: number): Buffer {
  const match = DECIMAL.exec(text.trim());
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) throw new Error(`not a decimal number: ${JSON.stringify(text)}`);
  const [, sign, integer, fraction = '', exponent = '0'] = match;
  let digits = `${integer}${fraction}`;
  // value = digits × 10^shift, and we want digits × 10^(shift + scale) as an integer.
  const shift = Number(exponent) - fraction.length + scale;
  if (shift >= 0) {
    digits += '0'.repeat(shift);
  } else {
    const dropped = digits.slice(shift);
    if (/[^0]/.test(dropped)) throw new Error(`${text} has more than ${scale} decimal places`);
    digits = digits.slice(0, shift);
  }
  const significant = digits.replace(/^0+/, '');
  if (significant.length > precision) throw new Error(`${text} does not fit decimal(${precision},${scale})`);
  // Up to 15 digits a double holds the integer exactly; bigint arithmetic is much slower (hot path of capture).
  if (significant.length <= 15) return safeIntegerToBytes(sign === '-' ? -Number(significant || '0') : Number(significant || '0'));
  const unscaled = BigInt(significant);
  return bigintToBytes(sign === '-' ? -unscaled : unscaled);
}

/** Bytes of an unscaled integer → its exact decimal text at `scale` (`-12.50`). */
export function bytesToDecimal(bytes: Uint8Array, scale: number): string {
  const unscaled = bytesToBigint(bytes);
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

/** Minimal big-endian two's-complement bytes of a safe integer. */
function safeIntegerToBytes(value: number): Buffer {
  // A negative value's bytes are the inverted bytes of -value - 1, which stays exact as a double.
  const negative = value < 0;
  let rest = negative ? -value - 1 : value;
  let length = 1;
  while (rest >= 2 ** (8 * length - 1)) length++;
  const bytes = Buffer.allocUnsafe(length);
  for (let index = length - 1; index >= 0; index--) {
    const byte = rest % 256;
    bytes[index] = negative ? 255 - byte : byte;
    rest = Math.floor(rest / 256);
  }
  return bytes;
}

export function bigintToBytes(value: bigint): Buffer {
  const bytes: number[] = [];
  let rest = value;
  // Shift out bytes until the remaining sign bits are all 0 (or all 1) and the top byte carries the sign.
  do {
    bytes.unshift(Number(rest & 0xffn));
    rest >>= 8n;
  } while (!((rest === 0n && (bytes[0]! & 0x80) === 0) || (rest === -1n && (bytes[0]! & 0x80) !== 0)));
  return Buffer.from(bytes);
}

export function bytesToBigint(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  if (bytes.length > 0 && (bytes[0]! & 0x80) !== 0) value -= 1n << BigInt(bytes.length * 8);
  return value;
}
