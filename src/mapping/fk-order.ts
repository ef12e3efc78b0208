/**
 * Foreign-key order: parents before children, so that one transaction can upsert a parent and its
 * children (and delete them in the reverse order). Tables in a cycle (self-references included)
 * keep their given order; such a cycle needs deferrable constraints to apply in one batch.
 */
export function orderParentsFirst<T>(items: readonly T[], tableOf: (item: T) => string, parentsOf: (item: T) => readonly string[]): T[] {
  const tables = new Set(items.map(tableOf));
  const placed = new Set<string>();
  const out: T[] = [];
  const remaining = [...items];
  while (remaining.length > 0) {
    const index = remaining.findIndex((item) => parentsOf(item).every((parent) => parent === tableOf(item) || !tables.has(parent) || placed.has(parent)));
    // A cycle: take the first remaining item as it was given.
    const [next] = remaining.splice(index < 0 ? 0 : index, 1);
    out.push(next!);
    placed.add(tableOf(next!));
  }
  return out;
}
