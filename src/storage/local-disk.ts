import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { once } from 'node:events';
import { type FileStorage, FileTooLargeError, assertStorageKey } from '../core/ports/file-storage.js';

/** Temporary files carry this prefix; `list()` skips them and a restart may remove them. */
const TEMP_PREFIX = '.tmp-';

/**
 * Files on the local disk under `root` (by default `<dataDir>/uploads/`). Writes go to a
 * temporary name in the same directory and are renamed into place, so readers see whole files
 * only; keys are checked against `STORAGE_KEY` and resolved inside the root.
 */
export class LocalDiskStorage implements FileStorage {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private pathOf(key: string): string {
    assertStorageKey(key);
    const path = resolve(this.root, ...key.split('/'));
    // Belt and braces: the key grammar already forbids escaping the root.
    if (!path.startsWith(this.root + sep)) throw new Error(`invalid storage key: ${JSON.stringify(key)}`);
    return path;
  }

  async put(key: string, data: Readable, options: { maxBytes: number }): Promise<{ size: number }> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const temp = join(dirname(path), `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    let size = 0;
    const limit = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > options.maxBytes) done(new FileTooLargeError(options.maxBytes));
        else done(null, chunk);
      },
    });
    const out = createWriteStream(temp, { flags: 'wx' });
    try {
      await pipeline(data, limit, out);
      await rename(temp, path);
    } catch (e) {
      // The file may still be opening: removed only once it is closed, or it would stay.
      if (!out.closed) await once(out, 'close').catch(() => undefined);
      await rm(temp, { force: true });
      // Drain what the caller still sends so the request can be answered.
      data.resume();
      throw e;
    }
    return { size };
  }

  async open(key: string, range?: { start: number; end: number }): Promise<Readable | null> {
    const path = this.pathOf(key);
    try {
      await stat(path);
    } catch {
      return null;
    }
    return createReadStream(path, range ? { start: range.start, end: range.end } : {});
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? { size: s.size } : null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async delete(key: string): Promise<boolean> {
    try {
      await unlink(this.pathOf(key));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
  }

  async *list(): AsyncIterable<{ key: string; size: number }> {
    let entries;
    try {
      entries = await readdir(this.root, { recursive: true, withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const entry of entries) {
      if (!entry.isFile() || entry.name.startsWith(TEMP_PREFIX)) continue;
      // `parentPath` is Node 20.12+; earlier 20.x name it `path`.
      const dir = (entry as { parentPath?: string; path?: string }).parentPath ?? (entry as { path?: string }).path ?? this.root;
      const path = join(dir, entry.name);
      const s = await stat(path).catch(() => null);
      if (s) yield { key: relative(this.root, path).split(sep).join('/'), size: s.size };
    }
  }
}
