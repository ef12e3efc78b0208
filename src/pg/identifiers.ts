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
