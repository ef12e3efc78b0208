import type { ConnectorInput } from './schema.js';

type TableMappingInput = NonNullable<ConnectorInput['mappings']>[string];

/**
 * What a connector file declares. `Tables` is inferred from `source.tables`, so `mappings` only
 * accepts tables that are captured and editors complete their names.
 */
export type ConnectorDefinition<Tables extends string = string> = Omit<ConnectorInput, 'source' | 'mappings'> & {
  source: Omit<ConnectorInput['source'], 'tables'> & { tables: readonly Tables[] };
  mappings?: { [Table in Tables]?: TableMappingInput };
};

/**
 * Declares a connector (one migration: legacy tables → new tables). Validation happens when the
 * file is loaded, so every problem is reported at once with its path.
 */
export function defineConnector<const Tables extends string>(connector: ConnectorDefinition<Tables>): ConnectorDefinition<Tables> {
  return connector;
}
