/**
 * A segment is a half-open range of the key space of one target table, `[lower, upper)`, with
 * `null` for an open end. Keys are the text form of the target's key columns, in key order; the
 * ordering itself is the database's (the algorithm never compares keys, it only asks a side for the
 * rows and summaries of a segment and a splitter for boundaries), so text, uuid and composite keys
 * need nothing special here. Segments are immutable values.
 */
export type Key = readonly string[];

export interface Segment {
  readonly table: string;
  /** Inclusive; null = from the first key. */
  readonly lower: Key | null;
  /** Exclusive; null = through the last key. */
  readonly upper: Key | null;
  /** 0 for a chunk, +1 per bisection. */
  readonly depth: number;
}

export function segment(table: string, lower: Key | null, upper: Key | null, depth = 0): Segment {
  return Object.freeze({ table, lower: lower && Object.freeze([...lower]), upper: upper && Object.freeze([...upper]), depth });
}

/** The segments between consecutive boundaries (sorted, distinct): n boundaries → n + 1 segments covering the whole range. */
export function splitAt(parent: Segment, boundaries: readonly Key[]): Segment[] {
  const edges: (Key | null)[] = [parent.lower, ...boundaries, parent.upper];
  const out: Segment[] = [];
  for (let index = 0; index + 1 < edges.length; index += 1) out.push(segment(parent.table, edges[index]!, edges[index + 1]!, parent.depth + 1));
  return out;
}

/** The chunks of a table from its boundary keys: `(-∞, b1), [b1, b2), …, [bn, +∞)`. */
export function chunksFrom(table: string, boundaries: readonly Key[]): Segment[] {
  const edges: (Key | null)[] = [null, ...boundaries, null];
  const out: Segment[] = [];
  for (let index = 0; index + 1 < edges.length; index += 1) out.push(segment(table, edges[index]!, edges[index + 1]!, 0));
  return out;
}

export function describeSegment(value: Segment): string {
  const show = (key: Key | null, open: string) => (key === null ? open : key.length === 1 ? key[0]! : `(${key.join(', ')})`);
  return `${value.table} [${show(value.lower, '-∞')}, ${show(value.upper, '+∞')})`;
}

/** One identity for a key, usable as a Map key. */
export function keyId(key: Key): string {
  return JSON.stringify(key);
}
