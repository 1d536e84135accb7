#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { buildApp } from '../app.js';
import { Accounts, hashToken } from '../auth/index.js';
import { ConfigError, type ConfigFile, type ParleyConfig, loadConfig } from '../config/index.js';
import { type Store, type WebhookDelivery, type WebhookDeliveryStatus, isParleyError } from '../core/index.js';
import { openStore } from '../store/index.js';
import { LocalDiskStorage } from '../storage/local-disk.js';
import { humanBytes, storageReport } from '../storage/report.js';
import { dirname, join } from 'node:path';
import { createWriteStream, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isClusterWorker, onPrimaryGone, runPrimary } from './cluster.js';
import { explainStartupError } from './startup-errors.js';
import { ImportError, Progress, exportStore, importStore, summary } from './transfer.js';

/** package.json sits two levels up from both src/cli/ and dist/cli/. */
const version = (JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

/** `parley` — serve, migrate, and manage users and tokens. */
const program = new Command()
  .name('parley')
  .description('Parley chat server')
  .version(version, '-V, --version', 'print the version')
  .option('-c, --config <file>', 'configuration file (default: ./parley.config.json, or PARLEY_CONFIG)')
  .showHelpAfterError('(parley --help lists the commands and options)');

/** The configuration the running command loaded last: start-up errors name its settings. */
let loaded: ParleyConfig | null = null;

function config(overrides: ConfigFile = {}, overridesFrom = 'the command line'): ParleyConfig {
  const opts = program.opts<{ config?: string }>();
  loaded = loadConfig({ ...(opts.config ? { file: opts.config } : {}), overrides, overridesFrom });
  return loaded;
}

/** `--port`: a whole number 0–65535 (0: any free port). */
function parsePort(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535, e.g. --port 3000.');
  return Number(value);
}

/** Runs a command against the configured store and closes it afterwards. */
async function withAccounts<T>(fn: (accounts: Accounts) => Promise<T>): Promise<T> {
  const cfg = config();
  const store = openStore(cfg.databaseUrl);
  try {
    await store.migrate();
    return await fn(new Accounts({ store, now: () => new Date(), registrationEnabled: true, sessionTtlDays: cfg.sessionTtlDays }));
  } finally {
    await store.close();
  }
}

program
  .command('serve')
  .description('run the server (migrates the database first)')
  .addOption(new Option('-p, --port <port>', 'port to listen on (env PORT)').argParser(parsePort))
  .option('-H, --host <host>', 'interface to listen on (env HOST)')
  .addOption(
    new Option('-w, --workers <n>', 'worker processes sharing the port (node:cluster); more than 1 needs REDIS_URL').argParser((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number, 1 or more');
      return n;
    }),
  )
  .action(async (opts: { port?: number; host?: string; workers?: number }) => {
    const cfg = config({ ...(opts.port !== undefined ? { port: opts.port } : {}), ...(opts.host ? { host: opts.host } : {}) }, opts.port !== undefined ? '--port' : '--host');
    const workers = opts.workers ?? 1;
    if (workers > 1 && !isClusterWorker()) {
      process.exit(await supervise(cfg, workers));
    }
    const app = await buildApp({ config: cfg });
    const url = await app.listen();
    app.http.log.info({ url, database: redact(cfg.databaseUrl) }, `Parley listening on ${url}`);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      app.http.log.info({ signal }, 'shutting down: finishing in-flight requests');
      // A hung request after `shutdownTimeoutSeconds` ends the process anyway.
      const force = setTimeout(() => {
        app.http.log.warn({ timeoutSeconds: cfg.shutdownTimeoutSeconds }, 'shutdown took too long; exiting with work unfinished');
        process.exit(1);
      }, cfg.shutdownTimeoutSeconds * 1000);
      force.unref();
      app.close().then(
        () => process.exit(0),
        (err: unknown) => {
          app.http.log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    onPrimaryGone(stop);
  });

/**
 * `serve --workers N`: checks that N processes can share the work, migrates once, then runs
 * the cluster primary (src/cli/cluster.ts) until it shuts down; resolves to its exit code.
 */
async function supervise(cfg: ParleyConfig, workers: number): Promise<number> {
  if (!cfg.redisUrl) {
    throw new CliError(
      `--workers ${workers} needs REDIS_URL (redis://…): the in-process broker cannot deliver events between processes, so clients of one worker would miss what happens on another. Set REDIS_URL, or run one process.`,
    );
  }
  if (cfg.databaseUrl === ':memory:' || cfg.databaseUrl === 'sqlite::memory:') {
    throw new CliError(`--workers ${workers} needs a shared database: with an in-memory one each worker would have its own. Set DATABASE_URL.`);
  }
  const log = pino({ level: cfg.logLevel, base: { pid: process.pid, role: 'primary' } });
  const store = openStore(cfg.databaseUrl);
  try {
    const { applied } = await store.migrate();
    if (applied.length > 0) log.info({ applied }, 'migrations applied');
  } finally {
    await store.close();
  }
  log.info({ workers, port: cfg.port, database: redact(cfg.databaseUrl), redis: redact(cfg.redisUrl) }, `Parley starting ${workers} workers`);
  return runPrimary({ workers, log });
}

program
  .command('migrate')
  .description('apply pending database migrations')
  .action(async () => {
    const cfg = config();
    const store = openStore(cfg.databaseUrl);
    try {
      const { applied } = await store.migrate();
      console.log(applied.length > 0 ? `Applied: ${applied.join(', ')}` : 'Database is up to date.');
    } finally {
      await store.close();
    }
  });

program
  .command('storage')
  .description('report upload storage: files, bytes, and uploads never attached')
  .option('--json', 'print JSON')
  .action(async (opts: { json?: boolean }) => {
    const cfg = config();
    const report = await withStore((store) => storageReport(store, new LocalDiskStorage(join(cfg.dataDir, 'uploads'))));
    if (opts.json) {
      console.log(JSON.stringify(report));
      return;
    }
    console.log(`Uploads:     ${report.files} files, ${humanBytes(report.bytes)}`);
    console.log(`Unattached:  ${report.unattached_files} files, ${humanBytes(report.unattached_bytes)} (deleted after ${cfg.uploads.unattachedTtlHours} h)`);
    console.log(`On disk:     ${report.stored_objects} objects (with thumbnails), ${humanBytes(report.stored_bytes)} under ${join(cfg.dataDir, 'uploads')}`);
  });

const user = program.command('user').description('manage users');
user
  .command('create <username>')
  .description('create a user (prints a generated password unless --password is given)')
  .option('--password <password>', 'password (or env PARLEY_PASSWORD)')
  .option('--email <email>', 'email address')
  .option('--display-name <name>', 'display name')
  .action(async (username: string, opts: { password?: string; email?: string; displayName?: string }) => {
    const given = opts.password ?? process.env.PARLEY_PASSWORD;
    const password = given ?? randomBytes(12).toString('base64url');
    const created = await withAccounts((a) =>
      a.createUser({ username, password, ...(opts.email ? { email: opts.email } : {}), ...(opts.displayName ? { displayName: opts.displayName } : {}) }),
    );
    console.log(`Created user ${created.username} (id ${created.id}).`);
    if (!given) console.log(`Password: ${password}`);
  });

const token = program.command('token').description('manage API tokens');
token
  .command('create <username>')
  .description('issue an API token for a user (printed once; only its hash is stored)')
  .action(async (username: string) => {
    const issued = await withAccounts(async (a) => {
      const u = await a.userByUsername(username);
      if (!u) throw new CliError(`No such user: ${username}`);
      return a.issueToken(u, 'api');
    });
    console.log(issued);
  });

user
  .command('list')
  .description('list users: id, username, display name, email, active, created')
  .option('--json', 'print JSON Lines')
  .action(async (opts: { json?: boolean }) => {
    await withStore(async (store) => {
      const rows: string[][] = [];
      for (let page = await store.exportRows('users', null, 500); page.length > 0; page = page.length < 500 ? [] : await store.exportRows('users', page[page.length - 1] ?? null, 500)) {
        for (const u of page) {
          if (opts.json) console.log(JSON.stringify({ id: u.id, username: u.username, display_name: u.display_name, email: u.email, is_active: u.is_active, created_at: u.created_at, last_seen_at: u.last_seen_at }));
          else rows.push([String(u.id), String(u.username), String(u.display_name), String(u.email), u.is_active ? 'yes' : 'no', String(u.created_at).slice(0, 10)]);
        }
      }
      if (!opts.json) printTable(['ID', 'USERNAME', 'NAME', 'EMAIL', 'ACTIVE', 'CREATED'], rows);
    });
  });
user
  .command('deactivate <username>')
  .description('deactivate a user: they can no longer sign in, and their tokens stop working')
  .action(async (username: string) => {
    await withStore(async (store) => {
      const u = await store.getUserByUsername(username);
      if (!u) throw new CliError(`No such user: ${username} (parley user list shows them).`);
      await store.updateUser(u.id, { isActive: false });
      const tokens = await store.listTokens(u.id);
      for (const t of tokens) await store.deleteToken(t.tokenHash);
      console.log(`Deactivated ${u.username} (id ${u.id}); revoked ${tokens.length} token${tokens.length === 1 ? '' : 's'}.`);
    });
  });

token
  .command('list [username]')
  .description('list API and session tokens (the ID is the start of the token\'s hash; tokens themselves are never stored)')
  .action(async (username: string | undefined) => {
    await withStore(async (store) => {
      const owner = username ? await store.getUserByUsername(username) : null;
      if (username && !owner) throw new CliError(`No such user: ${username} (parley user list shows them).`);
      const tokens = await store.listTokens(owner?.id ?? null);
      const users = new Map((await store.getUsers([...new Set(tokens.map((t) => t.userId))])).map((u) => [u.id, u.username]));
      const now = Date.now();
      printTable(
        ['ID', 'USER', 'KIND', 'CREATED', 'EXPIRES'],
        tokens.map((t) => [
          t.tokenHash.slice(0, 12),
          users.get(t.userId) ?? String(t.userId),
          t.kind,
          t.createdAt.toISOString(),
          t.expiresAt === null ? 'never' : `${t.expiresAt.toISOString()}${t.expiresAt.getTime() < now ? ' (expired)' : ''}`,
        ]),
      );
    });
  });
token
  .command('revoke <id-or-token>')
  .description('revoke a token: an ID from `parley token list`, or the token itself; --all-of <username> for every token of a user')
  .option('--all-of', 'the argument is a username: revoke all of their tokens')
  .action(async (arg: string, opts: { allOf?: boolean }) => {
    await withStore(async (store) => {
      let hashes: string[];
      if (opts.allOf) {
        const u = await store.getUserByUsername(arg);
        if (!u) throw new CliError(`No such user: ${arg}.`);
        hashes = (await store.listTokens(u.id)).map((t) => t.tokenHash);
      } else {
        const all = await store.listTokens(null);
        const byToken = hashToken(arg);
        hashes = all.filter((t) => t.tokenHash === byToken || (arg.length >= 8 && t.tokenHash.startsWith(arg))).map((t) => t.tokenHash);
        if (hashes.length > 1) throw new CliError(`${arg} matches ${hashes.length} tokens; give more of the ID.`);
        if (hashes.length === 0) throw new CliError(`No token matches ${arg} (an ID from parley token list, 8+ characters, or the token itself).`);
      }
      for (const h of hashes) await store.deleteToken(h);
      console.log(`Revoked ${hashes.length} token${hashes.length === 1 ? '' : 's'}.`);
    });
  });

program
  .command('backup <file>')
  .description('copy the database while the server runs (SQLite online backup; for PostgreSQL prints the pg_dump command)')
  .action(async (file: string) => {
    // No migration first: a backup copies the database as it is.
    const store = openStore(config().databaseUrl);
    const result = await store.backup(file).finally(() => store.close());
    if ('written' in result) console.log(`Backed up to ${result.written}. Restore: stop the server, put the file at the database path (DATABASE_URL=sqlite:${result.written} to use it as is), start.`);
    else console.log(`PostgreSQL is backed up with its own tool; run:\n  ${result.command}\nRestore with pg_restore --dbname=<url> ${file}.`);
  });

program
  .command('export [file]')
  .description('write users, conversations, members, messages, reactions, read/delivery cursors and attachment metadata as JSON Lines (default: stdout)')
  .option('--database-url <url>', 'export this database instead of the configured one')
  .action(async (file: string | undefined, opts: { databaseUrl?: string }) => {
    const out = file ? createWriteStream(file) : process.stdout;
    const counts = await withStore((store) => exportStore(store, out, new Progress()), opts.databaseUrl);
    if (file) await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    console.error(`Exported ${summary(counts)}.`);
  });

program
  .command('import <file>')
  .description('read a `parley export` file into an empty database (e.g. SQLite → PostgreSQL: set DATABASE_URL or --database-url)')
  .option('--database-url <url>', 'import into this database instead of the configured one')
  .action(async (file: string, opts: { databaseUrl?: string }) => {
    const counts = await withStore((store) => importStore(store, file, new Progress()), opts.databaseUrl);
    console.error(`Imported ${summary(counts)}.`);
  });

const webhooks = program.command('webhooks').description('webhook deliveries: the log, and retrying failed ones');
webhooks
  .command('log')
  .description('print the webhook delivery log, newest first')
  .addOption(new Option('--status <status>', 'only deliveries with this status').choices(['pending', 'delivered', 'failed']))
  .addOption(
    new Option('--limit <n>', 'at most this many (default 20)').argParser((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number, 1 or more');
      return n;
    }),
  )
  .option('--json', 'one JSON array, with each delivery\'s body')
  .action(async (opts: { status?: WebhookDeliveryStatus; limit?: number; json?: boolean }) => {
    const list = await withStore((store) => store.listWebhookDeliveries({ ...(opts.status ? { status: opts.status } : {}), limit: opts.limit ?? 20 }));
    if (opts.json) {
      console.log(JSON.stringify(list.map(deliveryJson), null, 2));
      return;
    }
    if (list.length === 0) {
      console.log(opts.status ? `No ${opts.status} webhook deliveries.` : 'No webhook deliveries.');
      return;
    }
    const rows = list.map((d) => [
      String(d.id),
      d.status,
      String(d.attempts),
      d.eventType,
      d.endpointUrl,
      d.status === 'pending' ? `next ${d.nextAttemptAt.toISOString()}` : (d.deliveredAt ?? d.nextAttemptAt).toISOString(),
      d.lastError ?? (d.lastStatusCode !== null ? `HTTP ${d.lastStatusCode}` : ''),
    ]);
    printTable(['ID', 'STATUS', 'ATTEMPTS', 'EVENT', 'URL', 'WHEN', 'LAST RESULT'], rows);
  });
webhooks
  .command('retry <id>')
  .description('send a failed delivery again (a running server picks it up within a second)')
  .action(async (idText: string) => {
    const id = Number(idText);
    if (!Number.isInteger(id) || id < 1) throw new CliError(`Not a delivery id: ${idText}`);
    const d = await withStore((store) => store.retryWebhookDelivery(id, new Date()));
    if (!d) throw new CliError(`No failed or pending webhook delivery with id ${id}.`);
    console.log(`Delivery ${d.id} (${d.eventType} to ${d.endpointUrl}) is due again; attempts so far: ${d.attempts}.`);
  });

/** Runs a command against the configured store (or `databaseUrl`), migrated, and closes it afterwards. */
async function withStore<T>(fn: (store: Store) => Promise<T>, databaseUrl?: string): Promise<T> {
  const store = openStore(databaseUrl ? config({ databaseUrl }, '--database-url').databaseUrl : config().databaseUrl);
  try {
    await store.migrate();
    return await fn(store);
  } finally {
    await store.close();
  }
}

const deliveryJson = (d: WebhookDelivery) => ({
  id: d.id,
  status: d.status,
  attempts: d.attempts,
  event_id: d.eventId,
  event_type: d.eventType,
  url: d.endpointUrl,
  next_attempt_at: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
  last_status_code: d.lastStatusCode,
  last_error: d.lastError,
  created_at: d.createdAt.toISOString(),
  delivered_at: d.deliveredAt?.toISOString() ?? null,
  body: JSON.parse(d.payload) as unknown,
});

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const r of [header, ...rows]) console.log(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

class CliError extends Error {}

const redact = (url: string): string => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');

program.parseAsync(process.argv).catch((err: unknown) => {
  const explained = loaded ? explainStartupError(err, loaded) : null;
  if (explained) {
    console.error(explained);
    process.exit(2);
  }
  if (err instanceof ConfigError || err instanceof CliError || err instanceof ImportError) {
    console.error(err.message);
    process.exit(2);
  }
  if (isParleyError(err)) {
    const fields = err.details ? Object.entries(err.details).map(([k, v]) => `  ${k}: ${v.join(' ')}`) : [];
    console.error([err.message, ...fields].join('\n'));
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});
