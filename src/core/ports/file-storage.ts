import type { Readable } from 'node:stream';

/**
 * The file storage port: where uploaded files and their thumbnails live. Parley ships a
 * local-disk implementation (`src/storage/local-disk.ts`, under `<dataDir>/uploads/`); an
 * object store (S3, GCS, Azure Blob…) plugs in by implementing this interface and passing it
 * as the `fileStorage` option of `createParley` / `buildApp`. Every implementation must pass
 * `test/contract/file-storage.contract.ts`.
 *
 * Keys are chosen by Parley: relative, `/`-separated, made of `[A-Za-z0-9._-]` segments (e.g.
 * `2026/11/9f2c….bin`). An implementation must refuse any other key (`..`, absolute paths,
 * backslashes) with an error rather than reading or writing outside its root.
 *
 * Rules:
 * - `put` is atomic: a reader never sees a half-written file, and a failed or over-limit put
 *   leaves nothing behind (for object stores: abort the multipart upload).
 * - Reading, stat-ing or deleting a missing key is not an error: `null` / `false`.
 */
export interface FileStorage {
  /**
   * Stores the stream under `key`, replacing any file there. Reads at most `maxBytes`: a longer
   * stream rejects with `FileTooLargeError` and stores nothing. Resolves to the byte count.
   */
  put(key: string, data: Readable, options: { maxBytes: number }): Promise<{ size: number }>;
  /**
   * Opens a file for reading, or a byte range of it (`start`/`end` inclusive, as in HTTP
   * `Range`). Null when there is no such file.
   */
  open(key: string, range?: { start: number; end: number }): Promise<Readable | null>;
  /** Size of a stored file, or null when there is none. */
  stat(key: string): Promise<{ size: number } | null>;
  /** Removes a file; false when there was none. */
  delete(key: string): Promise<boolean>;
  /** Every stored key with its size (for reports and consistency checks), in no set order. */
  list(): AsyncIterable<{ key: string; size: number }>;
}

/** Thrown by `FileStorage.put` when the stream is longer than `maxBytes`. */
export class FileTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`The file is larger than ${maxBytes} bytes.`);
    this.name = 'FileTooLargeError';
  }
}

/** The key grammar every storage accepts (see `FileStorage`). */
export const STORAGE_KEY = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

/** Throws unless `key` is a safe relative key. */
export function assertStorageKey(key: string): void {
  if (!STORAGE_KEY.test(key) || key.split('/').some((s) => s === '.' || s === '..') || key.length > 512) {
    throw new Error(`invalid storage key: ${JSON.stringify(key)}`);
  }
}
