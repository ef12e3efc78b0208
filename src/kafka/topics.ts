/** Topic naming, apart from the kafkajs client so that pure modules (schema derivation) can use it. */

/** `<prefix>.<schema>.<table>`, the Debezium topic naming. */
export function topicFor(prefix: string, qualifiedTable: string): string {
  return `${prefix}.${qualifiedTable}`;
}
