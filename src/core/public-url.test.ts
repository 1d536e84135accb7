import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { defaultCoreSettings } from './settings.js';
import { onPublicUrl, withPublicUrl } from './public-url.js';
import type { User } from './types.js';

const load = (env: Record<string, string>, overrides = {}) =>
  loadConfig({ cwd: mkdtempSync(join(tmpdir(), 'parley-public-url-')), env: { PARLEY_SECRET: 'x'.repeat(20), ...env }, overrides });

describe('publicUrl configuration', () => {
  it('is off by default: URLs stay relative', () => {
    expect(load({}).publicUrl).toBeNull();
  });

  it.each([
    ['https://chat.example.com', 'https://chat.example.com'],
    ['https://chat.example.com/', 'https://chat.example.com'],
    ['http://Chat.Example.com:8080/parley//', 'http://chat.example.com:8080/parley'],
  ])('PARLEY_PUBLIC_URL=%s → %s', (raw, url) => {
    expect(load({ PARLEY_PUBLIC_URL: raw }).publicUrl).toBe(url);
  });

  it('comes from the file or code as well', () => {
    expect(load({}, { publicUrl: 'https://a.example/' }).publicUrl).toBe('https://a.example');
  });

  it.each([
    ['a query', 'https://chat.example.com/?x=1'],
    ['an empty query', 'https://chat.example.com/?'],
    ['a fragment', 'https://chat.example.com/#top'],
    ['credentials', 'https://me:pw@chat.example.com'],
    ['another scheme', 'ftp://chat.example.com'],
    ['no scheme', 'chat.example.com'],
  ])('rejects a URL with %s, naming the variable', (_name, raw) => {
    let error: unknown;
    try {
      load({ PARLEY_PUBLIC_URL: raw });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^publicUrl \(from PARLEY_PUBLIC_URL\): /);
  });
});

describe('onPublicUrl / withPublicUrl', () => {
  const user = (avatarUrl: string | null): User => ({ id: 7, avatarUrl }) as User;

  it('prefixes root-relative URLs only', () => {
    expect(onPublicUrl('https://c.example/chat', '/avatars/7.svg')).toBe('https://c.example/chat/avatars/7.svg');
    expect(onPublicUrl('https://c.example', 'https://cdn.example/a.png')).toBe('https://cdn.example/a.png');
    expect(onPublicUrl('https://c.example', '//cdn.example/a.png')).toBe('//cdn.example/a.png');
    expect(onPublicUrl(null, '/avatars/7.svg')).toBe('/avatars/7.svg');
  });

  it('makes default and hook avatar URLs absolute; leaves settings alone without a publicUrl', () => {
    const settings = withPublicUrl({}, 'https://c.example');
    expect(settings.avatarUrl?.(user(null))).toBe('https://c.example/avatars/7.svg');
    expect(settings.avatarUrl?.(user('https://img.example/7.png'))).toBe('https://img.example/7.png');
    const hooked = withPublicUrl({ avatarUrl: (u) => `/faces/${u.id}.png` }, 'https://c.example');
    expect(hooked.avatarUrl?.(user(null))).toBe('https://c.example/faces/7.png');
    const off = { avatarUrl: defaultCoreSettings.avatarUrl };
    expect(withPublicUrl(off, null)).toBe(off);
  });
});
