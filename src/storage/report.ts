import type { FileStorage } from '../core/ports/file-storage.js';
import type { Store } from '../core/ports/store.js';

/** What `parley storage` prints: the database's view of uploads and what the storage holds. */
export interface StorageReport {
  /** Uploaded files recorded in the database (media by URL not counted). */
  files: number;
  bytes: number;
  /** Of those, uploads never attached to a message (swept after `uploads.unattachedTtlHours`). */
  unattached_files: number;
  unattached_bytes: number;
  /** Everything in the storage, thumbnails included. */
  stored_objects: number;
  stored_bytes: number;
}

export async function storageReport(store: Store, files: FileStorage): Promise<StorageReport> {
  const usage = await store.attachmentUsage();
  let objects = 0;
  let bytes = 0;
  for await (const f of files.list()) {
    objects += 1;
    bytes += f.size;
  }
  return {
    files: usage.files,
    bytes: usage.bytes,
    unattached_files: usage.unattachedFiles,
    unattached_bytes: usage.unattachedBytes,
    stored_objects: objects,
    stored_bytes: bytes,
  };
}

/** `1536` → `1.5 KiB`. */
export function humanBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return i === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[i]}`;
}
