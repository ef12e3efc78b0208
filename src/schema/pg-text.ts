/**
 * Exact parsers for PostgreSQL's text output (what pgoutput sends): dates, times, timestamps,
 * intervals, bytea and array literals. JavaScript's Date would drop microseconds and guess time
 * zones, so calendar arithmetic here is done on integers (microseconds as bigint).
 */

const MICROS_PER_SECOND = 1_000_000n;
const MICROS_PER_DAY = 86_400n * MICROS_PER_SECOND;

/** Days since 1970-01-01 of a proleptic Gregorian date (year 0 = 1 BC). */
export function daysFromCivil(year: number, month: number, day: number): number {
  // Howard Hinnant's days_from_civil.
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

const DATE = /^(\d{4,})-(\d{2})-(\d{2})/;
const TIME = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?/;

/** `2024-02-29` or `0044-03-15 BC` → days since the epoch. */
export function parseDate(text: string): number {
  const match = DATE.exec(text);
  if (!match || !/^(\s+BC)?$/.test(text.slice(match[0].length))) throw new Error(`not a PostgreSQL date: ${JSON.stringify(text)}`);
  return daysFromCivil(astronomicalYear(Number(match[1]), text.endsWith('BC')), Number(match[2]), Number(match[3]));
}

/** `13:45:07.123456` → microseconds since midnight (24:00:00 is allowed, as in PostgreSQL). */
export function parseTime(text: string): bigint {
  const match = TIME.exec(text);
  if (!match || match[0].length !== text.length) throw new Error(`not a PostgreSQL time: ${JSON.stringify(text)}`);
  return timeMicros(match[1]!, match[2]!, match[3]!, match[4]);
}

/** `2024-01-02 03:04:05.123456` (or with `T`, or ` BC`) → microseconds since the epoch, as a wall-clock reading. */
export function parseTimestamp(text: string): bigint {
  const { micros, rest } = parseDateTime(text);
  if (!/^(\s+BC)?$/.test(rest)) throw new Error(`not a PostgreSQL timestamp: ${JSON.stringify(text)}`);
  return micros;
}

/** `2024-01-02 03:04:05.123456+05:30` → microseconds since the epoch (UTC). */
export function parseTimestamptz(text: string): bigint {
  const { micros, rest } = parseDateTime(text);
  const offset = /^(?:Z|([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?)(\s+BC)?$/.exec(rest);
  if (!offset) throw new Error(`not a PostgreSQL timestamp with time zone: ${JSON.stringify(text)}`);
  if (!offset[1]) return micros;
  const offsetSeconds = Number(offset[2]) * 3600 + Number(offset[3] ?? 0) * 60 + Number(offset[4] ?? 0);
  const signed = BigInt(offsetSeconds) * MICROS_PER_SECOND * (offset[1] === '-' ? -1n : 1n);
  return micros - signed;
}

/** Microseconds since the epoch → `2024-01-02T03:04:05.123456Z` (fraction only when not zero). */
export function formatIsoUtc(micros: bigint): string {
  const days = floorDiv(micros, MICROS_PER_DAY);
  let rest = micros - days * MICROS_PER_DAY;
  const { year, month, day } = civilFromDays(Number(days));
  const hours = rest / (3600n * MICROS_PER_SECOND);
  rest -= hours * 3600n * MICROS_PER_SECOND;
  const minutes = rest / (60n * MICROS_PER_SECOND);
  rest -= minutes * 60n * MICROS_PER_SECOND;
  const seconds = rest / MICROS_PER_SECOND;
  const fraction = rest - seconds * MICROS_PER_SECOND;
  const yearText = year >= 0 && year <= 9999 ? String(year).padStart(4, '0') : `${year < 0 ? '-' : '+'}${String(Math.abs(year)).padStart(6, '0')}`;
  const time = [hours, minutes, seconds].map((part) => String(part).padStart(2, '0')).join(':');
  const fractionText = fraction === 0n ? '' : `.${String(fraction).padStart(6, '0')}`;
  return `${yearText}-${pad2(month)}-${pad2(day)}T${time}${fractionText}Z`;
}

/**
 * An interval in PostgreSQL's default output style (`1 year 2 mons 3 days 04:05:06.5`,
 * `-1 days +02:00:00`) or already in ISO 8601 (IntervalStyle iso_8601) → ISO 8601 duration as
 * PostgreSQL's iso_8601 style writes it (`P1Y2M3DT4H5M6.5S`, `P-1DT2H`).
 */
export function intervalToIso(text: string): string {
  const trimmed = text.trim();
  if (/^-?P/.test(trimmed)) return trimmed;
  let years = 0;
  let months = 0;
  let days = 0;
  let timeMicrosTotal = 0n;
  const pattern = /([+-]?\d+)\s+(years?|mons?|days?)|([+-])?(\d+):(\d{2}):(\d{2})(?:\.(\d{1,6}))?/gy;
  let position = 0;
  while (position < trimmed.length) {
    if (trimmed[position] === ' ') {
      position += 1;
      continue;
    }
    pattern.lastIndex = position;
    const match = pattern.exec(trimmed);
    if (!match) throw new Error(`not a PostgreSQL interval in the postgres or iso_8601 IntervalStyle: ${JSON.stringify(text)}`);
    position = pattern.lastIndex;
    if (match[1] !== undefined) {
      const amount = Number(match[1]);
      if (match[2]!.startsWith('year')) years += amount;
      else if (match[2]!.startsWith('mon')) months += amount;
      else days += amount;
    } else {
      const magnitude = timeMicros(match[4]!, match[5]!, match[6]!, match[7]);
      timeMicrosTotal += match[3] === '-' ? -magnitude : magnitude;
    }
  }
  return formatIsoDuration(years, months, days, timeMicrosTotal);
}

function formatIsoDuration(years: number, months: number, days: number, micros: bigint): string {
  let out = 'P';
  if (years) out += `${years}Y`;
  if (months) out += `${months}M`;
  if (days) out += `${days}D`;
  if (micros !== 0n) {
    const negative = micros < 0n;
    let rest = negative ? -micros : micros;
    const hours = rest / (3600n * MICROS_PER_SECOND);
    rest -= hours * 3600n * MICROS_PER_SECOND;
    const minutes = rest / (60n * MICROS_PER_SECOND);
    rest -= minutes * 60n * MICROS_PER_SECOND;
    const sign = negative ? '-' : '';
    out += 'T';
    if (hours) out += `${sign}${hours}H`;
    if (minutes) out += `${sign}${minutes}M`;
    if (rest) {
      const seconds = rest / MICROS_PER_SECOND;
      const fraction = String(rest - seconds * MICROS_PER_SECOND).padStart(6, '0').replace(/0+$/, '');
      out += `${sign}${seconds}${fraction ? `.${fraction}` : ''}S`;
    }
  }
  return out === 'P' ? 'PT0S' : out;
}

/** bytea text output: hex (`\x0aff`, the default) or the legacy escape format (`a\000b`). */
export function parseBytea(text: string): Buffer {
  if (text.startsWith('\\x')) {
    const hex = text.slice(2);
    if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`not a PostgreSQL bytea in hex format: ${JSON.stringify(text.slice(0, 40))}`);
    return Buffer.from(hex, 'hex');
  }
  const bytes: number[] = [];
  for (let index = 0; index < text.length; ) {
    if (text[index] !== '\\') {
      bytes.push(...Buffer.from(text[index]!, 'latin1'));
      index += 1;
    } else if (text[index + 1] === '\\') {
      bytes.push(0x5c);
      index += 2;
    } else {
      const octal = text.slice(index + 1, index + 4);
      if (!/^[0-7]{3}$/.test(octal)) throw new Error(`not a PostgreSQL bytea in escape format: ${JSON.stringify(text.slice(0, 40))}`);
      bytes.push(parseInt(octal, 8));
      index += 4;
    }
  }
  return Buffer.from(bytes);
}

/**
 * A one-dimensional array literal (`{1,NULL,"a \"b\""}`, optionally with bounds `[0:1]={1,2}`) →
 * its elements as text, NULL as null. Multi-dimensional arrays have no Avro counterpart here.
 */
export function parseArrayLiteral(text: string): (string | null)[] {
  let index = 0;
  if (text.startsWith('[')) {
    index = text.indexOf('=') + 1;
    if (index === 0) throw new Error(`not a PostgreSQL array: ${JSON.stringify(text)}`);
  }
  if (text[index] !== '{' || !text.endsWith('}')) throw new Error(`not a PostgreSQL array: ${JSON.stringify(text)}`);
  index += 1;
  const elements: (string | null)[] = [];
  if (text[index] === '}') return elements;
  for (;;) {
    if (text[index] === '{') throw new Error('multi-dimensional arrays are not supported (one dimension maps to an Avro array)');
    if (text[index] === '"') {
      let value = '';
      index += 1;
      while (text[index] !== '"') {
        if (index >= text.length) throw new Error(`unterminated quoted element in array ${JSON.stringify(text)}`);
        if (text[index] === '\\') index += 1;
        value += text[index];
        index += 1;
      }
      index += 1;
      elements.push(value);
    } else {
      let end = index;
      while (end < text.length && text[end] !== ',' && text[end] !== '}') end += 1;
      const raw = text.slice(index, end).trim();
      elements.push(raw.toUpperCase() === 'NULL' ? null : raw);
      index = end;
    }
    if (text[index] === ',') index += 1;
    else if (text[index] === '}' && index === text.length - 1) return elements;
    else throw new Error(`not a PostgreSQL array: ${JSON.stringify(text)}`);
  }
}

function parseDateTime(text: string): { micros: bigint; rest: string } {
  const date = DATE.exec(text);
  const separator = date ? text[date[0].length] : undefined;
  const time = date && (separator === ' ' || separator === 'T') ? TIME.exec(text.slice(date[0].length + 1)) : null;
  if (!date || !time) throw new Error(`not a PostgreSQL timestamp: ${JSON.stringify(text)}`);
  const rest = text.slice(date[0].length + 1 + time[0].length);
  const days = daysFromCivil(astronomicalYear(Number(date[1]), rest.endsWith('BC')), Number(date[2]), Number(date[3]));
  return { micros: BigInt(days) * MICROS_PER_DAY + timeMicros(time[1]!, time[2]!, time[3]!, time[4]), rest };
}

function timeMicros(hours: string, minutes: string, seconds: string, fraction = ''): bigint {
  return (BigInt(hours) * 3600n + BigInt(minutes) * 60n + BigInt(seconds)) * MICROS_PER_SECOND + BigInt(fraction.padEnd(6, '0'));
}

/** PostgreSQL writes 1 BC as `0001 BC`; the proleptic calendar calls it year 0. */
function astronomicalYear(year: number, bc: boolean): number {
  return bc ? 1 - year : year;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const quotient = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? quotient - 1n : quotient;
}

function pad2(value: number): string {
  return String(value).padStart(2, '0');
}
