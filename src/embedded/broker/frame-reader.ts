/** Why a connection's byte stream cannot be framed any more. */
export class FrameError extends Error {}

/**
 * Splits a socket byte stream into Kafka frames (int32 size + payload) and returns the payloads.
 * Chunks are kept as received until a whole frame is there, so a bogus length prefix costs no
 * memory beyond what the peer really sent; a frame inside one chunk is returned as a zero-copy slice.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private frameSize = -1;

  constructor(private readonly maxFrameBytes: number) {}

  /** Adds received bytes; returns the frames completed by them (possibly none). Throws FrameError. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.frameSize < 0) {
        if (this.buffered < 4) break;
        this.frameSize = this.readSize();
        if (this.frameSize < 0 || this.frameSize > this.maxFrameBytes) {
          throw new FrameError(`frame size ${this.frameSize} is outside 0..${this.maxFrameBytes}`);
        }
      }
      if (this.buffered < 4 + this.frameSize) break;
      frames.push(this.take(4 + this.frameSize).subarray(4));
      this.frameSize = -1;
    }
    return frames;
  }

  private readSize(): number {
    if (this.chunks[0].length < 4) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0].readInt32BE(0);
  }

  /** Removes and returns the first `length` buffered bytes. */
  private take(length: number): Buffer {
    const first = this.chunks[0];
    let taken: Buffer;
    if (first.length >= length) {
      taken = first.subarray(0, length);
      if (first.length === length) this.chunks.shift();
      else this.chunks[0] = first.subarray(length);
    } else {
      const all = Buffer.concat(this.chunks, this.buffered);
      taken = all.subarray(0, length);
      this.chunks = all.length > length ? [all.subarray(length)] : [];
    }
    this.buffered -= length;
    return taken;
  }
}
