import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load-config.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'parley-config-'));
const SECRET = 's'.repeat(40);
const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
const ecPem = ecKey.export({ type: 'spki', format: 'pem' }).toString();
const ecJwk = JSON.stringify(ecKey.export({ format: 'jwk' }));
const p384Pem = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

/** The problems `loadConfig` reports, or [] when it loads. */
function problems(overrides: Record<string, unknown>, env: Record<string, string> = {}): string[] {
  try {
    loadConfig({ cwd: tmp(), env, overrides });
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

describe('host users config', () => {
  it('defaults: built-in accounts on, no JWT', () => {
    const c = loadConfig({ cwd: tmp(), env: {} });
    expect(c.builtInAccounts).toBe(true);
    expect(c.jwt).toBeNull();
  });

  it('resolves the algorithm from the key and fills the claim names', () => {
    expect(loadConfig({ cwd: tmp(), env: {}, overrides: { jwt: { secret: SECRET } } }).jwt).toEqual({
      secret: SECRET,
      algorithms: ['HS256'],
      claims: { id: 'sub', username: 'preferred_username', displayName: 'name', email: 'email', avatarUrl: 'picture' },
    });
    expect(loadConfig({ cwd: tmp(), env: {}, overrides: { jwt: { publicKey: rsaPem } } }).jwt?.algorithms).toEqual(['RS256']);
    expect(loadConfig({ cwd: tmp(), env: {}, overrides: { jwt: { publicKey: ecPem } } }).jwt?.algorithms).toEqual(['ES256']);
    expect(loadConfig({ cwd: tmp(), env: {}, overrides: { jwt: { publicKey: ecJwk, claims: { id: 'uid' } } } }).jwt).toMatchObject({
      algorithms: ['ES256'],
      claims: { id: 'uid', username: 'preferred_username' },
    });
  });

  it('takes the key from PARLEY_JWT_SECRET / PARLEY_JWT_PUBLIC_KEY and the rest from the file', () => {
    const cwd = tmp();
    writeFileSync(join(cwd, 'parley.config.json'), JSON.stringify({ jwt: { issuer: 'https://host.test' }, builtInAccounts: false }));
    const c = loadConfig({ cwd, env: { PARLEY_JWT_SECRET: SECRET } });
    expect(c.jwt).toMatchObject({ secret: SECRET, issuer: 'https://host.test', algorithms: ['HS256'] });
    expect(c.builtInAccounts).toBe(false);
    expect(loadConfig({ cwd: tmp(), env: { PARLEY_JWT_PUBLIC_KEY: rsaPem, PARLEY_BUILT_IN_ACCOUNTS: '0' } })).toMatchObject({
      builtInAccounts: false,
      jwt: { algorithms: ['RS256'] },
    });
  });

  it('rejects bad settings with one clear line each, never echoing the secret', () => {
    expect(problems({ jwt: {} })).toEqual([expect.stringMatching(/^jwt: set exactly one of jwt\.secret .* and jwt\.publicKey/)]);
    expect(problems({ jwt: { secret: SECRET, publicKey: rsaPem } })).toEqual([expect.stringMatching(/^jwt: set exactly one/)]);
    const short = problems({ jwt: { secret: 'tooshort-secret' } });
    expect(short).toEqual([expect.stringMatching(/^jwt\.secret: .*32/)]);
    expect(short.join()).not.toContain('tooshort-secret');
    expect(problems({ jwt: { publicKey: 'not a key' } })).toEqual([expect.stringMatching(/^jwt\.publicKey: not a PEM \(SPKI\) public key or a JWK/)]);
    expect(problems({ jwt: { publicKey: p384Pem } })).toEqual([expect.stringMatching(/^jwt\.publicKey: an EC key on secp384r1/)]);
    expect(problems({ jwt: { secret: SECRET, algorithms: ['RS256'] } })).toEqual(['jwt.algorithms: RS256 needs jwt.publicKey, not jwt.secret']);
    expect(problems({ jwt: { publicKey: rsaPem, algorithms: ['ES256'] } })).toEqual([
      'jwt.algorithms: ES256 does not match the RSA key in jwt.publicKey (it verifies RS256)',
    ]);
    expect(problems({ jwt: { publicKey: ecPem, algorithms: ['HS256'] } })).toEqual(['jwt.algorithms: HS256 needs jwt.secret, not jwt.publicKey']);
    expect(problems({ jwt: { secret: SECRET, algorithms: ['PS256'] } })).toEqual([expect.stringMatching(/^jwt\.algorithms\.0: /)]);
    expect(problems({ builtInAccounts: 'no' })).toEqual([expect.stringMatching(/^builtInAccounts: /)]);
  });
});
