import type { ConnectorInput } from './schema.js';

type TableMappingInput = NonNullable<ConnectorInput['mappings']>[string];

/** The mappings of the captured `Tables`: one target mapping per table, or several (a split). */
export type MappingsOf<Tables extends string> = { [Table in Tables]?: TableMappingInput };

/**
 * What a connector file declares. `Tables` is inferred from `source.tables`, so `mappings` only
 * accepts tables that are captured and editors complete their names; `Mappings` keeps the
 * mappings' own shape (one mapping or a list) for code that reads the definition back.
 */
export type ConnectorDefinition<Tables extends string = string, Mappings extends MappingsOf<Tables> = MappingsOf<Tables>> = Omit<ConnectorInput, 'source' | 'mappings'> & {
  source: Omit<ConnectorInput['source'], 'tables'> & { tables: readonly Tables[] };
  mappings?: Mappings;
};

/**
 * Declares a connector (one migration: legacy tables → new tables). Validation happens when the
 * file is loaded, so every problem is reported at once with its path.
 */
export function defineConnector<const Tables extends string, const Mappings extends MappingsOf<Tables> = MappingsOf<Tables>>(
  connector: ConnectorDefinition<Tables, Mappings>,
): ConnectorDefinition<Tables, Mappings> {
  return connector;
}
