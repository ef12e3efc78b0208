import type { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { CapturePgoutputPlugin, startReplicationOptions } from '../../../src/capture/pgoutput-plugin.js';

/** A replication connection that answers SHOW server_version_num and records what it was sent. */
function fakeReplicationClient(serverVersionNum: number) {
  const sent: string[] = [];
  const client = {
    async query(text: string) {
      sent.push(text);
      return text === 'SHOW server_version_num' ? { rows: [{ server_version_num: String(serverVersionNum) }] } : { rows: [] };
    },
  };
  return { client: client as unknown as Client, sent };
}

describe('pgoutput start options', () => {
  it("asks for changes without a replication origin only when told to (origin 'none')", () => {
    expect(startReplicationOptions({ publicationNames: ['tandem_shop'], originNone: true })).toBe("proto_version '1', publication_names 'tandem_shop', messages 'true', origin 'none'");
    expect(startReplicationOptions({ publicationNames: ['tandem_shop'], originNone: false })).toBe("proto_version '1', publication_names 'tandem_shop', messages 'true'");
  });

  it('quotes a publication name holding a quote', () => {
    expect(startReplicationOptions({ publicationNames: ["o'brien"], originNone: true })).toContain("publication_names 'o''brien'");
  });

  it("streams with origin 'none' from PostgreSQL 16 on", async () => {
    const { client, sent } = fakeReplicationClient(160004);
    const unavailable: number[] = [];
    await new CapturePgoutputPlugin('tandem_shop', (version) => unavailable.push(version)).start(client, 'tandem_shop', '0/16B3748');
    expect(sent).toEqual(['SHOW server_version_num', `START_REPLICATION SLOT "tandem_shop" LOGICAL 0/16B3748 (proto_version '1', publication_names 'tandem_shop', messages 'true', origin 'none')`]);
    expect(unavailable).toEqual([]);
  });

  it('leaves the option out before PostgreSQL 16 (it would be rejected) and reports the version', async () => {
    const { client, sent } = fakeReplicationClient(150008);
    const unavailable: number[] = [];
    await new CapturePgoutputPlugin('tandem_shop', (version) => unavailable.push(version)).start(client, 'tandem_shop', '0/0');
    expect(sent[1]).toBe(`START_REPLICATION SLOT "tandem_shop" LOGICAL 0/0 (proto_version '1', publication_names 'tandem_shop', messages 'true')`);
    expect(unavailable).toEqual([150008]);
  });

  it('streams every change, origin or not, when not asked to skip them (no reverse sync declared)', async () => {
    const { client, sent } = fakeReplicationClient(170002);
    await new CapturePgoutputPlugin('tandem_shop', null).start(client, 'tandem_shop', '0/0');
    expect(sent).toEqual([`START_REPLICATION SLOT "tandem_shop" LOGICAL 0/0 (proto_version '1', publication_names 'tandem_shop', messages 'true')`]);
  });
});
