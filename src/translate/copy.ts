/**
 * COPY … FROM STDIN for node-postgres without another dependency: a Submittable that answers the
 * server's CopyInResponse with one buffer (the batch, already in COPY text format).
 */
import type pg from 'pg';

interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

class CopyFromBuffer {
  private error: Error | null = null;
  rowCount = 0;

  constructor(
    private readonly text: string,
    private readonly data: Buffer,
    private readonly callback: (error: Error | null, rows: number) => void,
  ) {}

  submit(connection: CopyConnection): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: CopyConnection): void {
    if (this.data.length > 0) connection.sendCopyFromChunk(this.data);
    connection.endCopyFrom();
  }

  handleCommandComplete(message: { text?: string }): void {
    const match = /COPY (\d+)/.exec(message.text ?? '');
    if (match) this.rowCount = Number(match[1]);
  }

  handleError(error: Error): void {
    this.error = error;
  }

  handleReadyForQuery(): void {
    this.callback(this.error, this.rowCount);
  }

  // The protocol may deliver these for other statement kinds; COPY FROM has none of them.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
}

/** Runs `COPY … FROM STDIN` with `data` as the whole input; resolves with the rows copied. */
export function copyFrom(client: pg.ClientBase, text: string, data: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    client.query(new CopyFromBuffer(text, data, (error, rows) => (error ? reject(error) : resolve(rows))) as unknown as pg.Submittable);
  });
}
