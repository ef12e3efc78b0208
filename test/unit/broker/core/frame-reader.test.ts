import { describe, expect, it } from 'vitest';
import { FrameError, FrameReader } from '../../../../src/embedded/broker/frame-reader.js';

function frame(payload: string): Buffer {
  const body = Buffer.from(payload);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

describe('frame reader', () => {
  it('returns every whole frame of a chunk', () => {
    const reader = new FrameReader(1024);
    const frames = reader.push(Buffer.concat([frame('one'), frame('two'), frame('')]));
    expect(frames.map(String)).toEqual(['one', 'two', '']);
  });

  it('reassembles frames and size prefixes split across chunks', () => {
    const reader = new FrameReader(1024);
    const bytes = Buffer.concat([frame('hello'), frame('world!')]);
    const frames = [...bytes].flatMap((byte) => reader.push(Buffer.from([byte])));
    expect(frames.map(String)).toEqual(['hello', 'world!']);
  });

  it('hands out a frame inside one chunk without copying it', () => {
    const reader = new FrameReader(1024);
    const chunk = frame('zero-copy');
    const [payload] = reader.push(chunk);
    expect(payload.buffer).toBe(chunk.buffer);
  });

  it('refuses a length prefix above the cap before any payload arrives', () => {
    const reader = new FrameReader(1024);
    expect(() => reader.push(Buffer.from([0x7f, 0xff, 0xff, 0xff]))).toThrow(FrameError);
  });

  it('refuses a negative length prefix', () => {
    const reader = new FrameReader(1024);
    expect(() => reader.push(Buffer.from([0xff, 0xff, 0xff, 0xfe]))).toThrow(/frame size -2/);
  });
});
