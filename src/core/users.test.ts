import { afterEach, describe, expect, it } from 'vitest';
import { ParleyError } from './errors.js';
import { closeFixtures, coreFixture } from './testing.js';
import { normalizeIdentity } from './users.js';

afterEach(closeFixtures);

describe('normalizeIdentity', () => {
  it('keeps what is usable and makes the rest safe', () => {
    expect(normalizeIdentity({ id: ' 42 ', username: 'Ada Lovelace!', displayName: '  Ada  ', email: 'not-an-email', avatarUrl: 'javascript:alert(1)' })).toEqual({
      externalId: '42',
      username: 'Ada_Lovelace_',
      displayName: 'Ada',
      email: '',
    });
    expect(normalizeIdentity({ id: 'u-1', avatarUrl: null })).toEqual({ externalId: 'u-1', username: 'u-1', avatarUrl: null });
    expect(normalizeIdentity({ id: 'u-2', avatarUrl: '/img/u2.png', email: 'u2@example.com' })).toMatchObject({ avatarUrl: '/img/u2.png', email: 'u2@example.com' });
    expect(normalizeIdentity({ id: 'u-3', avatarUrl: '//evil.test/x.png' }).avatarUrl).toBeUndefined();
    expect(normalizeIdentity({ id: 'u-4', username: 'x'.repeat(400) }).username).toHaveLength(150);
  });

  it('refuses an identity without a usable id', () => {
    for (const id of ['', '   ', 'x'.repeat(256)]) expect(() => normalizeIdentity({ id })).toThrow(ParleyError);
  });
});

describe('Users with a directory', () => {
  it('search asks the directory, provisions its users and leaves the searcher and unusable entries out', async () => {
    const { core } = await coreFixture({
      directory: {
        search: async (q, limit) => [{ id: 'me', username: 'me' }, { id: '' }, { id: 'h-1', username: `found-${q}` }].slice(0, limit),
      },
    });
    const me = await core.users.provision({ id: 'me', username: 'me' });
    const found = await core.users.search(me, 'ann');
    expect(found.map((u) => u.username)).toEqual(['found-ann']);
    expect((await core.users.byExternalIds(['h-1'])).get('h-1')?.id).toBe(found[0]?.id);
  });
});
