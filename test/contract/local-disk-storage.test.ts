import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { LocalDiskStorage } from '../../src/storage/local-disk.js';
import { runFileStorageContract } from './file-storage.contract.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

runFileStorageContract('local disk', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-files-'));
  dirs.push(dir);
  return new LocalDiskStorage(join(dir, 'uploads'));
});
