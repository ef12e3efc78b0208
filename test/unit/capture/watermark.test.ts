import { describe, expect, it } from 'vitest';
import { ChunkWindow, keyText } from '../../../src/capture/watermark.js';

const rows = [
  { id: '1', name: 'a' },
  { id: '2', name: 'b' },
  { id: '3', name: 'c' },
];

describe('ChunkWindow: one DBLog chunk between its watermarks', () => {
  it('emits the chunk rows whose keys did not change between the low and the high watermark', () => {
    const window = new ChunkWindow('w', 'legacy.t', ['id']);
    window.open();
    window.noteChange('legacy.t', { id: '2', name: 'changed' });
    window.rows = rows;
    expect(window.close()).toEqual([rows[0], rows[2]]);
  });

  it('ignores changes before the low watermark and changes of other tables', () => {
    const window = new ChunkWindow('w', 'legacy.t', ['id']);
    window.noteChange('legacy.t', { id: '1' });
    window.open();
    window.noteChange('legacy.other', { id: '3' });
    window.noteChange('legacy.t', null);
    window.rows = rows;
    expect(window.close()).toEqual(rows);
  });

  it('compares composite keys on all their columns, as text', () => {
    const window = new ChunkWindow('w', 'legacy.t', ['a', 'b']);
    window.open();
    window.noteChange('legacy.t', { a: '1', b: '2' });
    window.rows = [
      { a: '1', b: '2' },
      { a: '1', b: '3' },
    ];
    expect(window.close()).toEqual([{ a: '1', b: '3' }]);
    expect(keyText(['a', 'b'], { a: '1', b: null })).toBe('["1",null]');
  });

  it('fails loudly when the watermarks arrive out of order or before the chunk was read', () => {
    const early = new ChunkWindow('w1', 'legacy.t', ['id']);
    early.rows = rows;
    expect(() => early.close()).toThrow('high watermark of chunk w1 arrived before its low watermark');
    const unread = new ChunkWindow('w2', 'legacy.t', ['id']);
    unread.open();
    expect(() => unread.close()).toThrow('high watermark of chunk w2 arrived before the chunk was read');
  });
});
