import type { Client } from 'pg';
import { PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import { quoteIdent } from '../pg/identifiers.js';

/** PostgreSQL 16 added pgoutput's `origin` option; older servers reject any option they do not know. */
export const ORIGIN_OPTION_MIN_VERSION = 160000;

export interface StartReplicationOptions {
  publicationNames: string[];
  /** Ask for changes without a replication origin only: skips what tandem's translate applied. */
  originNone: boolean;
}

/**
 * The option list of START_REPLICATION for pgoutput. `origin 'none'` makes PostgreSQL skip every
 * change applied under a replication origin, which is how translate marks its transactions: with
 * reverse sync, capture on each side then sends on the users' writes but never the other
 * direction's, so nothing echoes back and forth.
 */
export function startReplicationOptions(options: StartReplicationOptions): string {
  const publications = options.publicationNames.join(',').replace(/'/g, "''");
  const list = ["proto_version '1'", `publication_names '${publications}'`, "messages 'true'"];
  if (options.originNone) list.push("origin 'none'");
  return list.join(', ');
}

/**
 * pgoutput as capture needs it: values left as the text PostgreSQL sent (the library would run them
 * through the global `pg` type parsers: int8 and numeric as strings, timestamps as local Dates
 * without microseconds; capture decodes each value itself from the column's type), and, when
 * `skipOriginChanges` is given, without the changes applied under a replication origin (PostgreSQL
 * 16+; on an older server the option is left out and `skipOriginChanges` is told the version).
 */
export class CapturePgoutputPlugin extends PgoutputPlugin {
  constructor(
    private readonly publication: string,
    private readonly skipOriginChanges: ((unavailableOnServerVersionNum: number) => void) | null,
  ) {
    super({ protoVersion: 1, publicationNames: [publication], messages: true });
  }

  override parse(buffer: Buffer): Pgoutput.Message {
    const message = super.parse(buffer);
    if (message.tag === 'relation') {
      // The parser keeps this relation object and reads tuples through each column's `parser`.
      for (const column of message.columns) (column as { parser: (text: string) => unknown }).parser = keepText;
    }
    return message;
  }

  override async start(client: Client, slotName: string, lastLsn: string): Promise<unknown> {
    let originNone = false;
    if (this.skipOriginChanges) {
      // SHOW is one of the commands a replication connection accepts besides START_REPLICATION.
      const { rows } = await client.query<{ server_version_num: string }>('SHOW server_version_num');
      const version = Number(rows[0]!.server_version_num);
      originNone = version >= ORIGIN_OPTION_MIN_VERSION;
      if (!originNone) this.skipOriginChanges(version);
    }
    const options = startReplicationOptions({ publicationNames: [this.publication], originNone });
    return client.query(`START_REPLICATION SLOT ${quoteIdent(slotName)} LOGICAL ${lastLsn} (${options})`);
  }
}

const keepText = (text: string) => text;
