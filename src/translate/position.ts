/**
 * A change's place in the source history, from the envelope's source block. Positions order every
 * event of a partition and identify replays:
 *
 *   streamed change        (commitLsn, 1, sequence)   sequence = position within its transaction
 *   initial snapshot read  (lsn,       0, sequence)   lsn = the slot's consistent point, sequence = row number
 *
 * The phase puts initial snapshot reads before every change streamed from the same slot (whose
 * commits are at or after the consistent point), so a partition's positions only grow. Incremental
 * snapshot reads carry the commit LSN of their watermark transaction and order like changes.
 */
export interface Position {
  lsn: bigint;
  phase: 0 | 1;
  sequence: bigint;
}

export const ZERO_POSITION: Position = Object.freeze({ lsn: 0n, phase: 0, sequence: -1n });

export function positionOf(source: { lsn: bigint; commitLsn: bigint | null; sequence: bigint }): Position {
  return source.commitLsn === null ? { lsn: source.lsn, phase: 0, sequence: source.sequence } : { lsn: source.commitLsn, phase: 1, sequence: source.sequence };
}

export function comparePositions(a: Position, b: Position): number {
  if (a.lsn !== b.lsn) return a.lsn < b.lsn ? -1 : 1;
  if (a.phase !== b.phase) return a.phase - b.phase;
  return a.sequence === b.sequence ? 0 : a.sequence < b.sequence ? -1 : 1;
}

export function formatPosition(position: Position): string {
  const lsn = `${(position.lsn >> 32n).toString(16).toUpperCase()}/${(position.lsn & 0xffffffffn).toString(16).toUpperCase()}`;
  return `${lsn}${position.phase === 0 ? ' snapshot' : ''}#${position.sequence}`;
}
