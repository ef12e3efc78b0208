/**
 * What an SQL expression reads, lexically: every identifier outside string literals, comments and
 * dollar quotes. Over-approximates (a function name that is also a column name counts as a read),
 * which is the safe side for deciding that a column not sent (unchanged TOAST) affects a value.
 */
export function referencedNames(sql: string): string[] {
  const names = new Set<string>();
  let index = 0;
  while (index < sql.length) {
    const char = sql[index]!;
    if (char === "'") {
      index = skipQuoted(sql, index, "'");
    } else if (char === '"') {
      const end = skipQuoted(sql, index, '"');
      names.add(sql.slice(index + 1, end - 1).replace(/""/g, '"'));
      index = end;
    } else if (char === '-' && sql[index + 1] === '-') {
      const newline = sql.indexOf('\n', index);
      index = newline < 0 ? sql.length : newline + 1;
    } else if (char === '/' && sql[index + 1] === '*') {
      const end = sql.indexOf('*/', index + 2);
      index = end < 0 ? sql.length : end + 2;
    } else if (char === '$' && /^\$([A-Za-z_]\w*)?\$/.test(sql.slice(index))) {
      const tag = /^\$([A-Za-z_]\w*)?\$/.exec(sql.slice(index))![0];
      const end = sql.indexOf(tag, index + tag.length);
      index = end < 0 ? sql.length : end + tag.length;
    } else if (/[A-Za-z_]/.test(char)) {
      const match = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(sql.slice(index))!;
      // E'...' and similar string prefixes are literals, not names.
      if (/^[EeBbXxUu]$/.test(match[0]) && sql[index + 1] === "'") {
        index = skipQuoted(sql, index + 1, "'", /^[Ee]$/.test(match[0]));
        continue;
      }
      names.add(match[0].toLowerCase());
      index += match[0].length;
    } else {
      index += 1;
    }
  }
  return [...names];
}

/** Index after the closing quote; `escapes`: backslash escapes (E'...' strings). */
function skipQuoted(sql: string, start: number, quote: string, escapes = false): number {
  let index = start + 1;
  while (index < sql.length) {
    if (escapes && sql[index] === '\\') {
      index += 2;
      continue;
    }
    if (sql[index] === quote) {
      if (sql[index + 1] === quote) {
        index += 2;
        continue;
      }
      return index + 1;
    }
    index += 1;
  }
  return sql.length;
}
