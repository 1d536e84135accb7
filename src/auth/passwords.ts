import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';

/**
 * Password hashing with scrypt from Node's own crypto (no native addon to build; OWASP lists
 * scrypt as a recommended choice). Stored as `scrypt$N$r$p$salt$hash`, so the cost can rise
 * later without breaking old hashes: `needsRehash` says when a sign-in should store a new one.
 */
/** OWASP's scrypt minimum: N = 2^17, r = 8, p = 1 (128 MiB, a few hundred ms per hash). */
export const DEFAULT_COST = 17;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;

function scrypt(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // scrypt needs 128·N·r bytes; a little headroom above that, and never more than 2^20's.
    const maxmem = Math.min(128 * n * r + 16 * 1024 * 1024, 1100 * 1024 * 1024);
    scryptCb(password.normalize('NFKC'), salt, KEY_LENGTH, { N: n, r, p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** A new hash at cost 2^`cost` (log2 N, 10–20). */
export async function hashPassword(password: string, cost: number = DEFAULT_COST): Promise<string> {
  const n = 2 ** cost;
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, n, R, P);
  return `scrypt$${n}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Whether a stored hash is weaker than cost 2^`cost` (so a sign-in should replace it). */
export function needsRehash(stored: string, cost: number = DEFAULT_COST): boolean {
  const [scheme, n, r, p] = stored.split('$');
  return scheme !== 'scrypt' || Number(n) * Number(r) * Number(p) < 2 ** cost * R * P;
}

/** True when `password` matches `stored`; false for any malformed hash. Constant-time compare. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  // Bounds keep a tampered row from asking for gigabytes.
  if (![n, r, p].every((x) => Number.isInteger(x) && x > 0) || n > 2 ** 20 || r > 32 || p > 16) return false;
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const expected = Buffer.from(parts[5] ?? '', 'base64url');
  if (expected.length !== KEY_LENGTH) return false;
  const key = await scrypt(password, salt, n, r, p);
  return timingSafeEqual(key, expected);
}
