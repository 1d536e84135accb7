/**
 * Store benchmark: SQLite (a file in a temp dir) against PostgreSQL, in one run, through the
 * Store port.
 *
 *   node --import tsx bench/store.ts [--messages 1000000] [--stores sqlite,postgres] [--seconds 8]
 *
 * 1. Bulk load: `--messages` messages (Zipf-distributed words from a built-in vocabulary,
 *    200 conversations, one of them holding a tenth) written with batched SQL, as a migration
 *    or import would; the full-text index is built after the rows (FTS5 'rebuild' / CREATE
 *    INDEX), then ANALYZE (PostgreSQL: VACUUM ANALYZE).
 * 2. History pages: `store.listMessages` (50 per page) on that corpus: the newest page of a
 *    random conversation, a keyset page (`beforeSeq`) and an offset page at a random depth of
 *    the big conversation.
 * 3. Full-text search: `store.searchMessages` with `parseSearchQuery`, single words of
 *    several frequencies, prefixes, phrases and two-word queries, limit 50 (the REST default).
 * 4. Insert throughput: `store.insertMessage` into one conversation and across 100, one and
 *    16 in flight, into the loaded database.
 *
 * Each timed case stops after `--seconds` (or its sample cap), so the run stays bounded.
 * PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test) gets a private
 * schema `bench_<random>`, dropped at the end; the SQLite file lives in a temp dir, removed at
 * the end, also on failure or Ctrl-C. Writes bench/results/store.{json,md}.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { type ConversationId, type Store, type User, parseSearchQuery } from '../src/core/index.js';
import { openPostgresStore, openSqliteStore } from '../src/store/index.js';
import { Corpus, rng } from './corpus.js';
import { type LatencySummary, summarize } from './stats.js';

const HERE = dirname(fileURLToPath(import.meta.url));

const { values: argv } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' },
    stores: { type: 'string', default: 'sqlite,postgres' },
    seconds: { type: 'string', default: '8' },
    help: { type: 'boolean', default: false },
  },
});
if (argv.help) {
  console.log('usage: node --import tsx bench/store.ts [--messages 1000000] [--stores sqlite,postgres] [--seconds 8]');
  process.exit(0);
}
const MESSAGES = Number(argv.messages);
if (!Number.isInteger(MESSAGES) || MESSAGES < 1000 || MESSAGES > 20_000_000) throw new Error('--messages must be an integer from 1,000 to 20,000,000');
const SECONDS = Number(argv.seconds);
if (!(SECONDS > 0 && SECONDS <= 120)) throw new Error('--seconds must be in (0, 120]');
const STORES = argv.stores.split(',').map((s) => s.trim());
for (const s of STORES) if (s !== 'sqlite' && s !== 'postgres') throw new Error(`unknown store ${s}: use sqlite, postgres`);

const PARAMS = {
  messages: MESSAGES,
  conversations: 200,
  /** Share of the corpus in conversation 0, the "big" one. */
  bigShare: 0.1,
  senders: 20,
  vocabulary: 20_000,
  batch: 5000,
  pageSize: 50,
  searchLimit: 50,
  /** Time cap of one timed case, and its sample caps. */
  caseSeconds: SECONDS,
  historySamples: 2000,
  searchSamples: 200,
  insertOps: 20_000,
  databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
};

const RUN_ID = randomBytes(4).toString('hex');
const SCHEMA = `bench_${RUN_ID}`;

// ── cleanup, whatever happens ────────────────────────────────────────────────

const cleanups: { name: string; fn: () => Promise<void> }[] = [];
let cleaning: Promise<void> | null = null;
const onCleanup = (name: string, fn: () => Promise<void>) => cleanups.push({ name, fn });
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const { name, fn } of cleanups.reverse()) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([fn(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timed out after 30 s')), 30_000)))]);
      } catch (err) {
        console.warn(`cleanup "${name}" failed: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        clearTimeout(timer);
      }
    }
    cleanups.length = 0;
  })();
  return cleaning;
}
// `process.on`, not `once`: under `npx tsx`, Ctrl-C reaches this process twice (directly and
// relayed by tsx, sometimes late), and a signal with no listener left would end it in the
// middle of cleaning up. Later signals are ignored; every cleanup step is bounded.
let signalled = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (signalled) return;
    signalled = true;
    console.warn(`\n${signal}: cleaning up…`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ── helpers ──────────────────────────────────────────────────────────────────

function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}
function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';
}
const seconds = (ms: number) => `${fmt(ms / 1000, 1)} s`;

/**
 * SQLite's calls are synchronous under their promises, so a loop of them never returns to the
 * event loop, and Ctrl-C would wait for the loop to end. Loops call this between operations
 * (outside the timed part); it yields once every 50 ms.
 */
let lastYield = performance.now();
async function breathe(): Promise<void> {
  if (performance.now() - lastYield < 50) return;
  await new Promise((resolve) => setImmediate(resolve));
  lastYield = performance.now();
}

/** Runs `fn` up to `max` times or until `caseSeconds` passed (at least `min` times); one latency per call. */
async function timed(max: number, fn: (i: number) => Promise<unknown>, min = 3): Promise<LatencySummary> {
  const samples: number[] = [];
  const deadline = performance.now() + PARAMS.caseSeconds * 1000;
  for (let i = 0; i < max && (i < min || performance.now() < deadline); i++) {
    const t0 = performance.now();
    await fn(i);
    samples.push(performance.now() - t0);
    await breathe();
  }
  return summarize(samples);
}

// ── the stores ───────────────────────────────────────────────────────────────

interface Row {
  conversationId: number;
  seq: number;
  senderId: number;
  content: string;
  at: number;
}

/** What differs between the stores besides the port: bulk SQL and housekeeping. */
interface Backend {
  name: string;
  store: Store;
  /** Writes rows with plain SQL, in one batch. */
  bulkInsert(rows: Row[]): Promise<void>;
  /** Before the bulk load (e.g. drop the full-text index). */
  beforeBulk(): Promise<void>;
  /** After the bulk load: full-text index, conversation counters, statistics. Returns what it did. */
  afterBulk(lastSeq: Map<number, number>, at: number): Promise<string>;
  sizeBytes(): Promise<number>;
}

async function sqliteBackend(dir: string): Promise<Backend> {
  const file = join(dir, 'bench.sqlite3');
  const store = openSqliteStore({ filename: file });
  onCleanup('sqlite store', () => store.close());
  await store.migrate();
  // A second connection for the bulk SQL (WAL: the store's connection sees its commits).
  const db = new Database(file);
  db.pragma('busy_timeout = 5000');
  onCleanup('sqlite bulk connection', async () => {
    db.close();
  });
  const insert = db.prepare('INSERT INTO messages (conversation_id, seq, sender_id, content, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)');
  const insertMany = db.transaction((rows: Row[]) => {
    for (const r of rows) insert.run(r.conversationId, r.seq, r.senderId, r.content, r.at, r.at);
  });
  let trigger: string | null = null;
  return {
    name: 'SQLite',
    store,
    async bulkInsert(rows) {
      insertMany(rows);
    },
    async beforeBulk() {
      const row = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'messages_fts_insert'").get() as { sql: string } | undefined;
      if (!row) throw new Error('trigger messages_fts_insert not found: has the schema changed?');
      trigger = row.sql;
      db.exec('DROP TRIGGER messages_fts_insert');
    },
    async afterBulk(lastSeq, at) {
      if (trigger === null) throw new Error('afterBulk without beforeBulk');
      db.exec("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')");
      db.exec(trigger);
      const bump = db.prepare('UPDATE conversations SET last_seq = ?, last_activity_at = ? WHERE id = ?');
      db.transaction(() => {
        for (const [id, seq] of lastSeq) bump.run(seq, at, id);
      })();
      db.exec('ANALYZE');
      db.pragma('wal_checkpoint(TRUNCATE)');
      return "FTS5 'rebuild', ANALYZE, WAL checkpoint";
    },
    async sizeBytes() {
      let size = 0;
      for (const f of [file, `${file}-wal`]) {
        try {
          size += statSync(f).size;
        } catch {
          // no WAL file
        }
      }
      return size;
    },
  };
}

async function postgresBackend(): Promise<Backend> {
  const admin = new pg.Client({ connectionString: PARAMS.databaseUrl, application_name: 'parley_bench_admin' });
  await admin.connect();
  onCleanup('postgres admin connection', () => admin.end());
  onCleanup(`drop schema ${SCHEMA}`, async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  });
  const store = openPostgresStore({ connectionString: PARAMS.databaseUrl, schema: SCHEMA, poolSize: 16, applicationName: 'parley_bench_store' });
  onCleanup('postgres store', () => store.close());
  await store.migrate();
  console.log(`PostgreSQL: schema ${SCHEMA} (dropped at the end)`);
  const bulk = new pg.Pool({ connectionString: PARAMS.databaseUrl, max: 2, application_name: 'parley_bench_bulk', options: `-c search_path=${SCHEMA}` });
  onCleanup('postgres bulk pool', () => bulk.end());
  let indexDef: string | null = null;
  return {
    name: 'PostgreSQL',
    store,
    async bulkInsert(rows) {
      await bulk.query(
        `INSERT INTO messages (conversation_id, seq, sender_id, content, created_at, updated_at)
         SELECT c, s, u, t, to_timestamp(ms / 1000.0), to_timestamp(ms / 1000.0)
         FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::float8[]) AS x(c, s, u, t, ms)`,
        [rows.map((r) => r.conversationId), rows.map((r) => r.seq), rows.map((r) => r.senderId), rows.map((r) => r.content), rows.map((r) => r.at)],
      );
    },
    async beforeBulk() {
      const { rows } = await admin.query<{ def: string }>(
        `SELECT pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'messages_search'`,
        [SCHEMA],
      );
      indexDef = rows[0]?.def ?? null;
      if (indexDef === null) throw new Error('index messages_search not found: has the schema changed?');
      await admin.query(`DROP INDEX "${SCHEMA}".messages_search`);
    },
    async afterBulk(lastSeq, at) {
      if (indexDef === null) throw new Error('afterBulk without beforeBulk');
      const client = await bulk.connect();
      try {
        await client.query("SET maintenance_work_mem = '256MB'");
        await client.query(indexDef);
        await client.query(
          `UPDATE conversations c SET last_seq = x.seq, last_activity_at = to_timestamp($3 / 1000.0)
           FROM unnest($1::bigint[], $2::bigint[]) AS x(id, seq) WHERE c.id = x.id`,
          [[...lastSeq.keys()], [...lastSeq.values()], at],
        );
        await client.query('VACUUM (ANALYZE) messages');
        await client.query('ANALYZE');
      } finally {
        client.release();
      }
      return 'CREATE INDEX (GIN), VACUUM ANALYZE';
    },
    async sizeBytes() {
      const { rows } = await admin.query<{ n: string }>(
        `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')`,
        [SCHEMA],
      );
      return Number(rows[0]?.n ?? 0);
    },
  };
}

// ── one store's run ──────────────────────────────────────────────────────────

interface Fixture {
  searcher: User;
  /** A user who is a member of 10 of the 200 conversations only. */
  narrow: User;
  senders: User[];
  conversations: ConversationId[];
  lastSeq: Map<number, number>;
}

async function fixture(store: Store): Promise<Fixture> {
  const now = new Date();
  const mk = (username: string) => store.createUser({ username, displayName: username, email: '', passwordHash: null, now });
  const searcher = await mk('searcher');
  const narrow = await mk('narrow');
  const senders: User[] = [];
  for (let i = 0; i < PARAMS.senders; i++) senders.push(await mk(`sender${i}`));
  const conversations: ConversationId[] = [];
  for (let i = 0; i < PARAMS.conversations; i++) {
    const members = [searcher, ...senders, ...(i % 20 === 0 ? [narrow] : [])].map((u) => ({ userId: u.id, role: 'member' as const }));
    const c = await store.createConversation({ kind: 'group', title: `chat ${i}`, objectKey: null, dmKey: null, isPublic: false, createdBy: searcher.id, members, now });
    conversations.push(c.id);
  }
  return { searcher, narrow, senders, conversations, lastSeq: new Map() };
}

interface BulkResult {
  messages: number;
  loadMs: number;
  rowsPerSec: number;
  indexMs: number;
  indexSteps: string;
  sizeBytes: number;
}

async function bulkLoad(b: Backend, f: Fixture, corpus: Corpus): Promise<BulkResult> {
  const random = rng(99);
  const start = Date.now() - PARAMS.messages * 30_000;
  await b.beforeBulk();
  const t0 = performance.now();
  let lastReport = t0;
  // Two batches in flight: the next one is generated while the database writes the last.
  let inflight: Promise<void> = Promise.resolve();
  for (let done = 0; done < PARAMS.messages; ) {
    const rows: Row[] = [];
    for (let i = 0; i < PARAMS.batch && done < PARAMS.messages; i++, done++) {
      const c = random() < PARAMS.bigShare ? f.conversations[0] : f.conversations[1 + Math.floor(random() * (f.conversations.length - 1))];
      if (c === undefined) throw new Error('no conversation');
      const seq = (f.lastSeq.get(c) ?? 0) + 1;
      f.lastSeq.set(c, seq);
      const sender = f.senders[Math.floor(random() * f.senders.length)];
      if (!sender) throw new Error('no sender');
      rows.push({ conversationId: c, seq, senderId: sender.id, content: corpus.next(), at: start + done * 30_000 });
    }
    await inflight;
    await breathe();
    inflight = b.bulkInsert(rows);
    const now = performance.now();
    if (now - lastReport > 5000) {
      lastReport = now;
      console.log(`  ${b.name}: ${int(done)}/${int(PARAMS.messages)} rows (${int(done / ((now - t0) / 1000))}/s)`);
    }
  }
  await inflight;
  const loadMs = performance.now() - t0;
  console.log(`  ${b.name}: ${int(PARAMS.messages)} rows in ${seconds(loadMs)}; indexing…`);
  const t1 = performance.now();
  const indexSteps = await b.afterBulk(f.lastSeq, Date.now());
  const indexMs = performance.now() - t1;
  console.log(`  ${b.name}: ${indexSteps} in ${seconds(indexMs)}`);
  return { messages: PARAMS.messages, loadMs, rowsPerSec: PARAMS.messages / (loadMs / 1000), indexMs, indexSteps, sizeBytes: await b.sizeBytes() };
}

interface HistoryCase {
  name: string;
  latency: LatencySummary;
}

async function history(store: Store, f: Fixture): Promise<HistoryCase[]> {
  const random = rng(5);
  const big = f.conversations[0] as number;
  const bigLast = f.lastSeq.get(big) ?? 0;
  const viewerId = f.searcher.id;
  const base = { viewerId, includeDeleted: false, newestFirst: true, limit: PARAMS.pageSize } as const;
  const maxPage = Math.max(1, Math.min(200, Math.floor(bigLast / PARAMS.pageSize)));
  const cases: { name: string; run: () => Promise<unknown> }[] = [
    {
      name: 'newest 50 of a random conversation',
      run: () => store.listMessages(f.conversations[Math.floor(random() * f.conversations.length)] as number, base),
    },
    {
      name: `50 before a random seq (keyset), big conversation (${int(bigLast)} messages)`,
      run: () => store.listMessages(big, { ...base, beforeSeq: 1 + Math.floor(random() * bigLast) }),
    },
    {
      name: `offset page 1–${maxPage} at random (offset pagination), big conversation`,
      run: () => store.listMessages(big, { ...base, offset: Math.floor(random() * maxPage) * PARAMS.pageSize }),
    },
  ];
  const out: HistoryCase[] = [];
  for (const c of cases) {
    await c.run();
    const latency = await timed(PARAMS.historySamples, c.run, 10);
    out.push({ name: c.name, latency });
  }
  return out;
}

interface SearchCase {
  name: string;
  /** An example of the query text as typed. */
  example: string;
  /** Average number of messages containing the word (single words only). */
  matching: number | null;
  latency: LatencySummary;
  /** Average hits returned (at most the limit). */
  hits: number;
}

/** The query pools, chosen once from the corpus so every store gets the same queries. */
interface SearchPlan {
  name: string;
  queries: string[];
  matching: number | null;
  narrow?: boolean;
}

function searchPlans(corpus: Corpus, phrases: string[]): SearchPlan[] {
  const random = rng(11);
  const words = corpus.words;
  const df = corpus.documentFrequency;
  const ranks = (lo: number, hi: number, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(lo + Math.floor(random() * (Math.min(hi, words.length) - lo)));
    return out;
  };
  const wordPlan = (name: string, lo: number, hi: number, narrow = false): SearchPlan => {
    const rs = ranks(lo, hi, 50);
    return {
      name,
      queries: rs.map((r) => `"${words[r]}"`),
      matching: rs.reduce((s, r) => s + (df[r] ?? 0), 0) / rs.length,
      narrow,
    };
  };
  const prefixes = (lo: number, hi: number, len: number) =>
    ranks(lo, hi, 200)
      .map((r) => words[r] as string)
      .filter((w) => w.length > len)
      .slice(0, 50)
      .map((w) => `${w.slice(0, len)}*`);
  const pairs = ranks(50, 500, 100);
  return [
    wordPlan('word, frequent (rank 1–20)', 0, 20),
    wordPlan('word, common (rank 100–500)', 100, 500),
    wordPlan('word, rare (rank 5,000–20,000)', 5000, 20_000),
    wordPlan('word, frequent, user in 10 of 200 conversations', 0, 20, true),
    { name: 'prefix, 3 letters', queries: prefixes(50, 2000, 3), matching: null },
    { name: 'prefix, 5 letters', queries: prefixes(2000, 20_000, 5), matching: null },
    { name: 'phrase, 2 words from a stored message', queries: phrases.map((p) => `"${p}"`), matching: null },
    {
      name: 'two words, both required (rank 50–500)',
      queries: Array.from({ length: 50 }, (_, i) => `"${words[pairs[2 * i] ?? 0]}" "${words[pairs[2 * i + 1] ?? 0]}"`),
      matching: null,
    },
    {
      name: 'as typed: two words, the last a prefix',
      queries: Array.from({ length: 50 }, (_, i) => `${words[pairs[2 * i] ?? 0]} ${(words[pairs[2 * i + 1] ?? 0] ?? '').slice(0, 3)}`),
      matching: null,
    },
  ];
}

async function search(store: Store, f: Fixture, plans: SearchPlan[]): Promise<SearchCase[]> {
  const out: SearchCase[] = [];
  for (const plan of plans) {
    const user = plan.narrow ? f.narrow : f.searcher;
    let hits = 0;
    let n = 0;
    const latency = await timed(PARAMS.searchSamples, async (i) => {
      const q = plan.queries[i % plan.queries.length] as string;
      const found = await store.searchMessages(user.id, parseSearchQuery(q), PARAMS.searchLimit);
      hits += found.length;
      n++;
    });
    out.push({ name: plan.name, example: plan.queries[0] ?? '', matching: plan.matching, latency, hits: hits / Math.max(1, n) });
    console.log(`    ${plan.name}: p50 ${fmt(latency.p50)} ms, p99 ${fmt(latency.p99)} ms (n=${latency.samples})`);
  }
  return out;
}

interface InsertCase {
  name: string;
  inserts: number;
  perSec: number;
  latency: LatencySummary;
}

async function inserts(store: Store, f: Fixture, corpus: Corpus): Promise<InsertCase[]> {
  const now = new Date();
  const [sender, other] = f.senders;
  if (!sender || !other) throw new Error('no senders');
  const members = [sender, other, f.searcher].map((u) => ({ userId: u.id, role: 'member' as const }));
  const targets: ConversationId[] = [];
  for (let i = 0; i < 101; i++) {
    const c = await store.createConversation({ kind: 'group', title: `insert ${i}`, objectKey: null, dmKey: null, isPublic: false, createdBy: sender.id, members, now });
    targets.push(c.id);
  }
  const one = targets.slice(0, 1);
  const hundred = targets.slice(1);
  const cases = [
    { name: 'one conversation, 1 in flight', convs: one, concurrency: 1 },
    { name: '100 conversations, 1 in flight', convs: hundred, concurrency: 1 },
    { name: 'one conversation, 16 in flight', convs: one, concurrency: 16 },
    { name: '100 conversations, 16 in flight', convs: hundred, concurrency: 16 },
  ];
  const out: InsertCase[] = [];
  for (const c of cases) {
    const samples: number[] = [];
    let next = 0;
    const t0 = performance.now();
    const deadline = t0 + PARAMS.caseSeconds * 1000;
    await Promise.all(
      Array.from({ length: c.concurrency }, async () => {
        while (next < PARAMS.insertOps && performance.now() < deadline) {
          const i = next++;
          const s0 = performance.now();
          await store.insertMessage({ conversationId: c.convs[i % c.convs.length] as number, senderId: sender.id, content: corpus.next(), parentId: null, clientId: null, now: new Date() });
          samples.push(performance.now() - s0);
          await breathe();
        }
      }),
    );
    const elapsed = performance.now() - t0;
    const r = { name: c.name, inserts: samples.length, perSec: samples.length / (elapsed / 1000), latency: summarize(samples) };
    out.push(r);
    console.log(`    ${c.name}: ${int(r.perSec)} messages/s (p50 ${fmt(r.latency.p50)} ms, p99 ${fmt(r.latency.p99)} ms)`);
  }
  return out;
}

interface StoreResult {
  store: string;
  bulk: BulkResult;
  history: HistoryCase[];
  search: SearchCase[];
  inserts: InsertCase[];
}

async function runStore(b: Backend, plansFor: (corpus: Corpus, store: Store, f: Fixture) => Promise<SearchPlan[]>): Promise<StoreResult> {
  console.log(`${b.name}: loading ${int(PARAMS.messages)} messages…`);
  const f = await fixture(b.store);
  const corpus = new Corpus(PARAMS.vocabulary);
  const bulk = await bulkLoad(b, f, corpus);
  console.log(`  ${b.name}: history pages…`);
  const hist = await history(b.store, f);
  for (const h of hist) console.log(`    ${h.name}: p50 ${fmt(h.latency.p50)} ms, p99 ${fmt(h.latency.p99)} ms (n=${h.latency.samples})`);
  console.log(`  ${b.name}: search…`);
  const plans = await plansFor(corpus, b.store, f);
  // One untimed query first: the first search on a connection pays for planning and caching.
  await b.store.searchMessages(f.searcher.id, parseSearchQuery('"the"'), PARAMS.searchLimit);
  const found = await search(b.store, f, plans);
  console.log(`  ${b.name}: inserts…`);
  const ins = await inserts(b.store, f, corpus);
  return { store: b.name, bulk, history: hist, search: found, inserts: ins };
}

// ── report ───────────────────────────────────────────────────────────────────

function markdown(results: StoreResult[], environment: string): string {
  const names = results.map((r) => r.store);
  const both = results.length === 2;
  const [a, b] = results;
  const lines: string[] = [`# Store benchmark: ${names.join(' vs ')}`, ''];

  lines.push('## Insert throughput (`store.insertMessage`)', '');
  lines.push(`| case | ${names.map((n) => `${n} msg/s (p50 / p99 ms)`).join(' | ')} |${both ? ' ratio PostgreSQL/SQLite |' : ''}`);
  lines.push(`|---|${names.map(() => '---:').join('|')}|${both ? '---:|' : ''}`);
  for (const [i, c] of (a?.inserts ?? []).entries()) {
    const cells = results.map((r) => {
      const x = r.inserts[i];
      return x ? `${int(x.perSec)} (${fmt(x.latency.p50)} / ${fmt(x.latency.p99)})` : 'n/a';
    });
    const ratio = both && b ? fmt((b.inserts[i]?.perSec ?? Number.NaN) / c.perSec) : '';
    lines.push(`| ${c.name} | ${cells.join(' | ')} |${both ? ` ${ratio} |` : ''}`);
  }

  lines.push('', `## History page latency (\`store.listMessages\`, ${PARAMS.pageSize} per page, newest first), ms`, '');
  lines.push(`| query | ${names.map((n) => `${n} p50 / p99`).join(' | ')} |${both ? ' ratio p50 PostgreSQL/SQLite |' : ''}`);
  lines.push(`|---|${names.map(() => '---:').join('|')}|${both ? '---:|' : ''}`);
  for (const [i, h] of (a?.history ?? []).entries()) {
    const cells = results.map((r) => {
      const x = r.history[i];
      return x ? `${fmt(x.latency.p50)} / ${fmt(x.latency.p99)}` : 'n/a';
    });
    const ratio = both && b ? fmt((b.history[i]?.latency.p50 ?? Number.NaN) / h.latency.p50) : '';
    lines.push(`| ${h.name} | ${cells.join(' | ')} |${both ? ` ${ratio} |` : ''}`);
  }

  lines.push('', `## Full-text search (\`store.searchMessages\` + \`parseSearchQuery\`, limit ${PARAMS.searchLimit}) over ${int(PARAMS.messages)} messages, ms`, '');
  lines.push(`| query | example | messages matching (avg) | ${names.map((n) => `${n} p50 / p99 (n)`).join(' | ')} |${both ? ' ratio p50 PostgreSQL/SQLite |' : ''}`);
  lines.push(`|---|---|---:|${names.map(() => '---:').join('|')}|${both ? '---:|' : ''}`);
  for (const [i, s] of (a?.search ?? []).entries()) {
    const cells = results.map((r) => {
      const x = r.search[i];
      return x ? `${fmt(x.latency.p50)} / ${fmt(x.latency.p99)} (${x.latency.samples})` : 'n/a';
    });
    const ratio = both && b ? fmt((b.search[i]?.latency.p50 ?? Number.NaN) / s.latency.p50) : '';
    lines.push(`| ${s.name} | \`${s.example}\` | ${s.matching === null ? '' : int(s.matching)} | ${cells.join(' | ')} |${both ? ` ${ratio} |` : ''}`);
  }

  lines.push('', '## Bulk load (batched SQL, not the port)', '');
  lines.push(`| | ${names.join(' | ')} |`, `|---|${names.map(() => '---:').join('|')}|`);
  lines.push(`| rows/s (${int(PARAMS.messages)} rows, batches of ${int(PARAMS.batch)}) | ${results.map((r) => int(r.bulk.rowsPerSec)).join(' | ')} |`);
  lines.push(`| load time | ${results.map((r) => seconds(r.bulk.loadMs)).join(' | ')} |`);
  lines.push(`| index + statistics time | ${results.map((r) => `${seconds(r.bulk.indexMs)} (${r.bulk.indexSteps})`).join(' | ')} |`);
  lines.push(`| database size | ${results.map((r) => `${fmt(r.bulk.sizeBytes / 1024 / 1024, 0)} MiB`).join(' | ')} |`);

  lines.push(
    '',
    `- Corpus: ${int(PARAMS.messages)} messages of 3–20 words (about 7 on average) drawn from a ${int(PARAMS.vocabulary)}-word vocabulary with a Zipf (s = 1) distribution: the top words are in a large share of messages, most words in a few hundred. ${PARAMS.conversations} conversations with ${PARAMS.senders} senders; one conversation holds ${fmt(PARAMS.bigShare * 100, 0)}%. The searcher is a member of every conversation, so every match is visible (the worst case); one row uses a user who is a member of 10 of them.`,
    '- Search queries are typed text through `parseSearchQuery`: `"word"` is an exact word, `pre*` a prefix, `"w1 w2"` a phrase; a bare last word is a prefix (search as you type). Each case cycles through 50 different queries. Both stores rank every match before the limit (bm25 / ts_rank), so the frequent words cost the most.',
    `- Each timed case runs until ${PARAMS.caseSeconds} s passed or its sample cap (history ${int(PARAMS.historySamples)}, search ${PARAMS.searchSamples}, inserts ${int(PARAMS.insertOps)}); n is the number of samples, so a p99 over few samples is just the slowest ones.`,
    '- Inserts run last, into the loaded database, through the port: each is one transaction (next seq, bump the conversation, move the sender\'s cursors, full-text index). SQLite\'s calls are synchronous, so "16 in flight" only matters for PostgreSQL (pool of 16).',
    `- SQLite: one file in a temp dir, WAL, synchronous=NORMAL (the store's settings). PostgreSQL: local server, default settings, private schema. ${environment}.`,
    '',
  );
  return lines.join('\n');
}

// ── main ─────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  const started = performance.now();
  const loadBefore = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'parley-store-bench-'));
  onCleanup('temp dir', async () => rmSync(dir, { recursive: true, force: true }));

  // Phrases come from stored messages of the first store, then are reused for the others.
  let phrases: string[] | null = null;
  const plansFor = async (corpus: Corpus, store: Store, f: Fixture): Promise<SearchPlan[]> => {
    if (!phrases) {
      const random = rng(3);
      const found: string[] = [];
      const big = f.conversations[0] as number;
      const bigLast = f.lastSeq.get(big) ?? 1;
      for (let i = 0; i < 500 && found.length < 50; i++) {
        const [m] = await store.listMessages(big, { viewerId: f.searcher.id, includeDeleted: false, newestFirst: true, limit: 1, beforeSeq: 2 + Math.floor(random() * bigLast) });
        const words = m?.content.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean) ?? [];
        if (words.length < 2) continue;
        const at = Math.floor(random() * (words.length - 1));
        found.push(`${words[at]} ${words[at + 1]}`);
      }
      phrases = found;
    }
    return searchPlans(corpus, phrases);
  };

  const results: StoreResult[] = [];
  for (const name of STORES) {
    const backend = name === 'sqlite' ? await sqliteBackend(dir) : await postgresBackend();
    results.push(await runStore(backend, plansFor));
  }

  const loadAfter = loadavg();
  const environment = `${cpus().length} CPU(s) (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, load average ${fmt(loadBefore[0] ?? 0, 1)} before / ${fmt(loadAfter[0] ?? 0, 1)} after, ${new Date().toISOString()}, ${seconds(performance.now() - started)} in all`;
  const md = markdown(results, environment);
  const json = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    loadAverage: { before: loadBefore, after: loadAfter },
    params: { ...PARAMS, databaseUrl: PARAMS.databaseUrl.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@') },
    results,
    runtimeSeconds: (performance.now() - started) / 1000,
  };
  const out = join(HERE, 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'store.json'), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(out, 'store.md'), md);
  console.log(`\n${md}`);
  console.log('Written to bench/results/store.json and store.md.');
}

main()
  .then(
    () => 0,
    (err: unknown) => {
      console.error(err);
      return 1;
    },
  )
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  });
