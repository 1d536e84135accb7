import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { PORTABLE_TABLES, type PortableRow, type PortableTable, type Store } from '../core/index.js';

/**
 * `parley export` / `parley import`: the portable tables (`PORTABLE_TABLES`) as JSON Lines.
 * Line 1 is a header, then one `{"table": …, "row": {…}}` per row in table order, and a last
 * `{"end": true, "counts": {…}}` line, so an import can tell a complete file from a cut one.
 */
export const EXPORT_FORMAT = 'parley-export';
const BATCH = 500;

export type Counts = Record<PortableTable, number>;

/** Progress on a terminal (a bar on stderr); silent elsewhere. */
export class Progress {
  private last = 0;
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  update(label: string, done: number, total: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100 && done < total) return;
    this.last = now;
    const width = 30;
    const share = total > 0 ? Math.min(1, done / total) : 1;
    const bar = '█'.repeat(Math.round(share * width)).padEnd(width, '░');
    this.stream.write(`\r${label.padEnd(20)} ${bar} ${String(Math.round(share * 100)).padStart(3)}%  ${done}/${total}\u001b[K`);
  }

  end(): void {
    if (this.enabled) this.stream.write('\r\u001b[K');
  }
}

export async function exportStore(store: Store, out: Writable, progress: Progress): Promise<Counts> {
  const counts = Object.fromEntries(PORTABLE_TABLES.map((t) => [t, 0])) as Counts;
  const write = async (line: unknown): Promise<void> => {
    if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
  };
  await write({ format: EXPORT_FORMAT, version: 1, exported_at: new Date().toISOString(), tables: PORTABLE_TABLES });
  for (const table of PORTABLE_TABLES) {
    const total = await store.countRows(table);
    let after: PortableRow | null = null;
    for (;;) {
      const rows = await store.exportRows(table, after, BATCH);
      for (const row of rows) await write({ table, row });
      counts[table] += rows.length;
      progress.update(table, counts[table], total);
      if (rows.length < BATCH) break;
      after = rows[rows.length - 1] ?? null;
    }
  }
  await write({ end: true, counts });
  progress.end();
  return counts;
}

export class ImportError extends Error {}

/** Reads an export into an empty store. Throws `ImportError` for a file that is not one, or is cut short. */
export async function importStore(store: Store, file: string, progress: Progress): Promise<Counts> {
  if ((await store.countRows('users')) > 0) {
    throw new ImportError('The target database already has users: import only into an empty database (a new DATABASE_URL, migrated by `parley migrate`).');
  }
  const size = statSync(file).size;
  const input = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  const counts = Object.fromEntries(PORTABLE_TABLES.map((t) => [t, 0])) as Counts;
  let lineNo = 0;
  let header = false;
  let ended: Record<string, number> | null = null;
  let table: PortableTable | null = null;
  let batch: PortableRow[] = [];
  const done = new Set<PortableTable>();
  const flush = async (): Promise<void> => {
    if (!table || batch.length === 0) return;
    counts[table] += await store.importRows(table, batch);
    batch = [];
    progress.update(table, input.bytesRead, size);
  };
  for await (const line of lines) {
    lineNo += 1;
    if (line.trim() === '') continue;
    let record: { format?: unknown; table?: unknown; row?: unknown; end?: unknown; counts?: unknown };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      throw new ImportError(`${file}, line ${lineNo}: not JSON.`);
    }
    if (!header) {
      if (record.format !== EXPORT_FORMAT) throw new ImportError(`${file}: not a Parley export (its first line has no "format": "${EXPORT_FORMAT}").`);
      header = true;
      continue;
    }
    if (record.end === true) {
      ended = (record.counts ?? {}) as Record<string, number>;
      break;
    }
    const next = record.table as PortableTable;
    if (!PORTABLE_TABLES.includes(next) || typeof record.row !== 'object' || record.row === null) throw new ImportError(`${file}, line ${lineNo}: expected {"table": …, "row": {…}}.`);
    if (next !== table) {
      await flush();
      if (done.has(next)) throw new ImportError(`${file}, line ${lineNo}: rows of ${next} after other tables; the file was not written by parley export.`);
      if (table) done.add(table);
      table = next;
    }
    batch.push(record.row as PortableRow);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  progress.end();
  if (!ended) throw new ImportError(`${file} ends early (no closing counts line): the export was cut short. Imported so far: ${summary(counts)}.`);
  await store.finishImport();
  const mismatched = PORTABLE_TABLES.filter((t) => (ended?.[t] ?? 0) !== counts[t]);
  if (mismatched.length > 0) throw new ImportError(`Imported counts differ from the export's: ${mismatched.map((t) => `${t} ${counts[t]} of ${ended?.[t] ?? 0}`).join(', ')}.`);
  return counts;
}

export const summary = (counts: Counts): string => PORTABLE_TABLES.map((t) => `${t} ${counts[t]}`).join(', ');
