import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/index.js';
import { type ErrorCode, type Store, type User, ParleyError, createCore, parseSearchQuery } from './index.js';

describe('parseSearchQuery', () => {
  it('splits words; the last bare word is a prefix (search as you type)', () => {
    expect(parseSearchQuery('release notes')).toEqual([
      { words: ['release'], prefix: false },
      { words: ['notes'], prefix: true },
    ]);
    expect(parseSearchQuery('  release   notes  ')).toEqual(parseSearchQuery('release notes'));
    expect(parseSearchQuery('depl')).toEqual([{ words: ['depl'], prefix: true }]);
  });

  it('lower-cases words, Unicode letters included', () => {
    expect(parseSearchQuery('HeLLo CAFÉ Ünïcode')).toEqual([
      { words: ['hello'], prefix: false },
      { words: ['café'], prefix: false },
      { words: ['ünïcode'], prefix: true },
    ]);
  });

  it('a quoted text is a phrase, matched exactly (no prefix, even at the end)', () => {
    expect(parseSearchQuery('"Pull Request"')).toEqual([{ words: ['pull', 'request'], prefix: false }]);
    expect(parseSearchQuery('"pull request" review')).toEqual([
      { words: ['pull', 'request'], prefix: false },
      { words: ['review'], prefix: true },
    ]);
    expect(parseSearchQuery('review "now"')).toEqual([
      { words: ['review'], prefix: false },
      { words: ['now'], prefix: false },
    ]);
  });

  it('a word ending in * is a prefix anywhere in the query', () => {
    expect(parseSearchQuery('deploy* tonight')).toEqual([
      { words: ['deploy'], prefix: true },
      { words: ['tonight'], prefix: true },
    ]);
    expect(parseSearchQuery('deploy* "tonight"')).toEqual([
      { words: ['deploy'], prefix: true },
      { words: ['tonight'], prefix: false },
    ]);
  });

  it('punctuation separates words', () => {
    expect(parseSearchQuery('foo-bar')).toEqual([
      { words: ['foo'], prefix: false },
      { words: ['bar'], prefix: true },
    ]);
    expect(parseSearchQuery('user@example.com')).toEqual([
      { words: ['user'], prefix: false },
      { words: ['example'], prefix: false },
      { words: ['com'], prefix: true },
    ]);
  });

  it('full-text syntax in the query is only text', () => {
    expect(parseSearchQuery('cats AND (dogs OR NOT birds) NEAR ^x col:y -z +w')).toEqual([
      { words: ['cats'], prefix: false },
      { words: ['and'], prefix: false },
      { words: ['dogs'], prefix: false },
      { words: ['or'], prefix: false },
      { words: ['not'], prefix: false },
      { words: ['birds'], prefix: false },
      { words: ['near'], prefix: false },
      { words: ['x'], prefix: false },
      { words: ['col'], prefix: false },
      { words: ['y'], prefix: false },
      { words: ['z'], prefix: false },
      { words: ['w'], prefix: true },
    ]);
    for (const q of ['', '   ', '"', '""', '*', '**', '()', '" "', '-', '^', ':']) {
      expect(parseSearchQuery(q)).toEqual([]);
    }
    // An unclosed quote is not a phrase.
    expect(parseSearchQuery('"hello world')).toEqual([
      { words: ['hello'], prefix: false },
      { words: ['world'], prefix: true },
    ]);
  });

  it('keeps at most 16 terms', () => {
    const words = Array.from({ length: 30 }, (_, i) => `w${i}`);
    const terms = parseSearchQuery(words.join(' '));
    expect(terms).toHaveLength(16);
    expect(terms.map((t) => t.words[0])).toEqual(words.slice(0, 16));
  });
});

describe('Search.messages', () => {
  const open: Store[] = [];
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
  });

  async function setup() {
    const store = openSqliteStore({ filename: ':memory:' });
    await store.migrate();
    open.push(store);
    const now = new Date(Date.UTC(2024, 2, 1, 12, 0, 0));
    const core = createCore({ store, now: () => now });
    const user = (username: string): Promise<User> =>
      store.createUser({ username, displayName: username, email: `${username}@example.com`, passwordHash: null, now });
    const alice = await user('alice');
    const bob = await user('bob');
    const eve = await user('eve');
    const dm = (await core.conversations.openDm(alice, bob.id)).conversation;
    const say = async (who: User, content: string, conversationId = dm.id) =>
      (await core.messages.send(who, conversationId, { content })).message;
    const contents = async (who: User, q: string) => (await core.search.messages(who, q, 20)).map((h) => h.message.content).sort();
    return { core, alice, bob, eve, dm, say, contents };
  }

  async function expectError(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
    const error = await promise.then(
      () => new Error('expected an error'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ParleyError);
    expect((error as ParleyError).code).toBe(code);
  }

  it('searches as you type: the last word matches longer words', async () => {
    const { alice, bob, say, contents } = await setup();
    await say(bob, 'Deployment finished');
    await say(bob, 'deploying tonight');
    await say(bob, 'lunch?');
    expect(await contents(alice, 'depl')).toEqual(['Deployment finished', 'deploying tonight']);
    // A word that is not the last one must match whole, unless it ends in *.
    expect(await contents(alice, 'depl tonight')).toEqual([]);
    expect(await contents(alice, 'depl* tonight')).toEqual(['deploying tonight']);
    expect(await contents(alice, 'deploying tonight')).toEqual(['deploying tonight']);
    expect(await contents(alice, 'tonight deploying')).toEqual(['deploying tonight']);
  });

  it('a quoted phrase matches the words together and in order', async () => {
    const { alice, bob, say, contents } = await setup();
    await say(bob, 'please review the pull request');
    await say(bob, 'request to pull the review');
    expect(await contents(alice, '"pull request"')).toEqual(['please review the pull request']);
    expect(await contents(alice, 'pull request')).toEqual(['please review the pull request', 'request to pull the review']);
  });

  it('ignores accents', async () => {
    const { alice, bob, say, contents } = await setup();
    await say(bob, 'On se voit au Café ?');
    expect(await contents(alice, 'cafe')).toEqual(['On se voit au Café ?']);
    expect(await contents(alice, 'café')).toEqual(['On se voit au Café ?']);
  });

  it('only finds messages of conversations the user is in, not deleted or hidden ones', async () => {
    const { core, alice, bob, eve, say, contents } = await setup();
    const other = (await core.conversations.openDm(bob, eve.id)).conversation;
    await say(bob, 'secret plan for alice');
    await say(bob, 'secret plan for eve', other.id);
    const hidden = await say(bob, 'secret hidden plan');
    const deleted = await say(alice, 'secret deleted plan');
    await core.messages.hide(alice, hidden.id);
    await core.messages.delete(alice, deleted.id);
    expect(await contents(alice, 'secret plan')).toEqual(['secret plan for alice']);
    expect(await contents(bob, 'secret plan')).toEqual(['secret hidden plan', 'secret plan for alice', 'secret plan for eve']);
    expect(await contents(eve, 'secret plan')).toEqual(['secret plan for eve']);
  });

  it('highlights matches in HTML-safe snippets', async () => {
    const { core, alice, bob, say } = await setup();
    await say(bob, '<script>alert("pwned")</script> the invoice & receipt');
    const [hit] = await core.search.messages(alice, 'invoice', 20);
    expect(hit?.highlighted).toBe('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; the <mark>invoice</mark> &amp; receipt');
  });

  it('a user cannot forge highlights with the private marker characters', async () => {
    const { core, alice, bob, say } = await setup();
    await say(bob, '\u{E000}fake\u{E001} real');
    const [hit] = await core.search.messages(alice, 'real', 20);
    expect(hit?.highlighted).toBe('fake <mark>real</mark>');
  });

  it('query text with full-text syntax never throws', async () => {
    const { core, alice, bob, say } = await setup();
    await say(bob, 'cats AND dogs (or "not") star*');
    for (const q of ['cats AND', 'AND', 'OR dogs', 'NOT', '(cats', 'cats)', '"cats', 'cats"', '"cats AND dogs"', 'star*', '* cats', 'NEAR(cats dogs)', 'col:cats', '^cats', '-dogs', 'cats +', "it's", 'a"b"c']) {
      await expect(core.search.messages(alice, q, 20)).resolves.toEqual(expect.any(Array));
    }
    expect((await core.search.messages(alice, 'cats AND', 20)).length).toBe(1);
    expect((await core.search.messages(alice, '(not)', 20)).length).toBe(1);
  });

  it('a query with no words is a validation error', async () => {
    const { core, alice } = await setup();
    for (const q of ['', '   ', '"', '*', '()', '""']) await expectError(core.search.messages(alice, q, 20), 'validation');
  });

  it('honours the limit', async () => {
    const { core, alice, bob, say } = await setup();
    for (let i = 0; i < 5; i++) await say(bob, `standup note ${i}`);
    expect(await core.search.messages(alice, 'standup', 3)).toHaveLength(3);
  });
});
