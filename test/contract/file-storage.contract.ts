import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type FileStorage, FileTooLargeError } from '../../src/core/ports/file-storage.js';

const read = async (s: Readable | null): Promise<Buffer | null> => {
  if (!s) return null;
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
};

/** A stream of `total` bytes in chunks, like an upload arriving. */
const chunked = (total: number, chunk = 16 * 1024): Readable =>
  Readable.from(
    (function* () {
      for (let sent = 0; sent < total; sent += chunk) yield Buffer.alloc(Math.min(chunk, total - sent), sent % 251);
    })(),
  );

const keysOf = async (s: FileStorage): Promise<string[]> => {
  const out: string[] = [];
  for await (const f of s.list()) out.push(f.key);
  return out.sort();
};

/**
 * The file storage contract: every `FileStorage` (local disk, an object store adapter) runs
 * this suite unchanged. `open()` gives an empty storage each time.
 */
export function runFileStorageContract(name: string, open: () => Promise<FileStorage>): void {
  describe(`file storage contract: ${name}`, () => {
    it('stores a stream and reads it back whole, or a byte range of it', async () => {
      const s = await open();
      const data = Buffer.from('hello, parley storage');
      expect(await s.put('2030/01/abc', Readable.from([data]), { maxBytes: 1024 })).toEqual({ size: data.length });
      expect((await read(await s.open('2030/01/abc')))?.equals(data)).toBe(true);
      expect((await read(await s.open('2030/01/abc', { start: 7, end: 12 })))?.toString()).toBe('parley');
      expect(await s.stat('2030/01/abc')).toEqual({ size: data.length });
    });

    it('replaces a file put again under the same key', async () => {
      const s = await open();
      await s.put('k', Readable.from([Buffer.from('one')]), { maxBytes: 10 });
      await s.put('k', Readable.from([Buffer.from('second')]), { maxBytes: 10 });
      expect((await read(await s.open('k')))?.toString()).toBe('second');
    });

    it('refuses a stream over maxBytes with FileTooLargeError and keeps nothing', async () => {
      const s = await open();
      await expect(s.put('big', chunked(100 * 1024), { maxBytes: 64 * 1024 })).rejects.toBeInstanceOf(FileTooLargeError);
      expect(await s.stat('big')).toBeNull();
      expect(await keysOf(s)).toEqual([]);
      // Exactly at the limit is fine.
      expect(await s.put('exact', chunked(64 * 1024), { maxBytes: 64 * 1024 })).toEqual({ size: 64 * 1024 });
    });

    it('answers null / false for missing keys', async () => {
      const s = await open();
      expect(await s.open('nope')).toBeNull();
      expect(await s.stat('nope')).toBeNull();
      expect(await s.delete('nope')).toBe(false);
    });

    it('deletes, and lists what is stored with sizes', async () => {
      const s = await open();
      await s.put('a/1', Readable.from([Buffer.from('1')]), { maxBytes: 10 });
      await s.put('a/22', Readable.from([Buffer.from('22')]), { maxBytes: 10 });
      await s.put('b.thumb.webp', Readable.from([Buffer.from('333')]), { maxBytes: 10 });
      const listed: Record<string, number> = {};
      for await (const f of s.list()) listed[f.key] = f.size;
      expect(listed).toEqual({ 'a/1': 1, 'a/22': 2, 'b.thumb.webp': 3 });
      expect(await s.delete('a/22')).toBe(true);
      expect(await keysOf(s)).toEqual(['a/1', 'b.thumb.webp']);
    });

    it('refuses keys that could escape its root', async () => {
      const s = await open();
      for (const key of ['../x', 'a/../../x', '/etc/passwd', 'a\\b', '', 'a//b', '.hidden', 'a/./b']) {
        await expect(s.put(key, Readable.from([Buffer.from('x')]), { maxBytes: 10 }), key).rejects.toThrow();
        await expect(s.open(key), key).rejects.toThrow();
        await expect(s.delete(key), key).rejects.toThrow();
      }
    });

    it('a failing source stream leaves nothing behind', async () => {
      const s = await open();
      const broken = new Readable({
        read() {
          this.push(Buffer.alloc(1024));
          this.destroy(new Error('client went away'));
        },
      });
      await expect(s.put('half', broken, { maxBytes: 1 << 20 })).rejects.toThrow('client went away');
      expect(await keysOf(s)).toEqual([]);
    });
  });
}
