/** Quotes an SQL identifier: `quoteIdent('Order')` → `"Order"`. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `legacy.customers` → `"legacy"."customers"`. */
export function quoteQualified(qualifiedName: string): string {
  const { schema, table } = splitQualified(qualifiedName);
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

export function splitQualified(qualifiedName: string, defaultSchema = 'public'): { schema: string; table: string } {
  const dot = qualifiedName.indexOf('.');
  return dot < 0 ? { schema: defaultSchema, table: qualifiedName } : { schema: qualifiedName.slice(0, dot), table: qualifiedName.slice(dot + 1) };
}

export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A PostgreSQL array literal of text values (a `$1::text[]` parameter): `{"a","b\\"c",NULL}`. */
export function arrayLiteral(values: readonly (string | null)[]): string {
  return `{${values.map((value) => (value === null ? 'NULL' : `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)).join(',')}}`;
}
