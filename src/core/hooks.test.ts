import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeFixtures, coreFixture, expectError } from './testing.js';
import {
  type AfterPayloads,
  type BeforeInputs,
  type Conversation,
  type DomainEvent,
  type MessageReadSignal,
  type MessageSentSignal,
  type ParleyHooks,
  type User,
  ParleyError,
} from './index.js';

afterEach(closeFixtures);

/** A core with `lifecycle`, two users, their DM and a group, with recorded subscriber errors. */
async function setup(hooks: ParleyHooks) {
  const subscriberErrors: { error: unknown; event: DomainEvent }[] = [];
  // The hooks take effect once the users and chats below exist (the core reads them per call).
  const lifecycle: ParleyHooks = {};
  const f = await coreFixture({ lifecycle, onSubscriberError: (error, event) => subscriberErrors.push({ error, event }) });
  const alice = await f.user('alice');
  const bob = await f.user('bob');
  const carol = await f.user('carol');
  const dm = (await f.core.conversations.openDm(alice, bob.id)).conversation;
  const group = (await f.core.conversations.create(alice, { kind: 'group', title: 'G', memberIds: [bob.id] })).conversation;
  f.events.length = 0;
  Object.assign(lifecycle, hooks);
  const history = async (viewer: User, c: Conversation = dm) =>
    (await f.core.messages.history(viewer, c.id, { newestFirst: false, limit: 100 })).items.map((m) => m.content);
  return { ...f, alice, bob, carol, dm, group, history, subscriberErrors };
}

const veto = (): never => {
  throw new ParleyError('forbidden', 'Vetoed by a hook.');
};

describe('before-hooks', () => {
  it('a veto blocks a send: nothing stored, nothing emitted, the ParleyError reaches the caller', async () => {
    const seen: BeforeInputs['message.send'][] = [];
    const { core, events, alice, bob, dm, history } = await setup({
      before: {
        'message.send': (input) => {
          seen.push(input);
          if (input.content.includes('forbidden')) veto();
        },
      },
    });
    const error = await expectError(core.messages.send(alice, dm.id, { content: 'a forbidden word' }), 'forbidden');
    expect(error.message).toBe('Vetoed by a hook.');
    expect(await history(bob)).toEqual([]);
    expect(events).toEqual([]);
    expect(seen).toEqual([{ actor: alice, conversation: expect.objectContaining({ id: dm.id }), content: 'a forbidden word', parentId: null }]);
    // Not vetoed: stored as usual.
    await core.messages.send(alice, dm.id, { content: 'fine' });
    expect(await history(bob)).toEqual(['fine']);
  });

  it('runs after the permission checks: a refused actor never reaches the hook', async () => {
    const hook = vi.fn();
    const { core, carol, dm } = await setup({ before: { 'message.send': hook } });
    await expectError(core.messages.send(carol, dm.id, { content: 'hi' }), 'not_found');
    expect(hook).not.toHaveBeenCalled();
  });

  it('any other error thrown by a before-hook fails the write too', async () => {
    const { core, events, alice, bob, dm, history } = await setup({
      before: {
        'message.send': async () => {
          throw new Error('hook crashed');
        },
      },
    });
    await expect(core.messages.send(alice, dm.id, { content: 'hi' })).rejects.toThrow('hook crashed');
    expect(await history(bob)).toEqual([]);
    expect(events).toEqual([]);
  });

  it('message.send and message.edit may rewrite the content; the rewrite is validated', async () => {
    const filter = ({ content }: { content: string }) => ({ content: content.replace(/darn/gi, '****') });
    const { core, events, alice, bob, dm, history } = await setup({
      before: {
        'message.send': (input) => (input.content === 'blank me' ? { content: '  ' } : filter(input)),
        'message.edit': filter,
      },
    });
    const { message } = await core.messages.send(alice, dm.id, { content: 'Darn it' });
    expect(message.content).toBe('**** it');
    expect((events[0] as Extract<DomainEvent, { type: 'message.created' }>).message.content).toBe('**** it');
    const edited = await core.messages.edit(alice, message.id, 'darn again');
    expect(edited.message.content).toBe('**** again');
    expect(await history(bob)).toEqual(['**** again']);
    await expectError(core.messages.send(alice, dm.id, { content: 'blank me' }), 'validation');
  });

  it('vetoes edits, deletes, reactions, conversation creation and adding members', async () => {
    const { core, events, alice, bob, carol, dm, group, history } = await setup({
      before: {
        'message.edit': veto,
        'message.delete': veto,
        'reaction.toggle': veto,
        'conversation.create': veto,
        'member.add': veto,
      },
    });
    const { message } = await core.messages.send(alice, dm.id, { content: 'original' });
    events.length = 0;
    await expectError(core.messages.edit(alice, message.id, 'changed'), 'forbidden');
    await expectError(core.messages.delete(alice, message.id), 'forbidden');
    await expectError(core.messages.toggleReaction(bob, message.id, '👍'), 'forbidden');
    await expectError(core.conversations.create(alice, { kind: 'group', title: 'New', memberIds: [bob.id] }), 'forbidden');
    await expectError(core.conversations.openDm(alice, carol.id), 'forbidden');
    await expectError(core.conversations.addMembers(alice, group.id, [carol.id]), 'forbidden');
    expect(events).toEqual([]);
    expect(await history(bob)).toEqual(['original']);
    expect((await core.messages.reactionsOf([message.id])).get(message.id)).toBeUndefined();
    expect((await core.conversations.get(alice, group.id)).members.map((m) => m.userId).sort()).toEqual([alice.id, bob.id]);
    // An existing DM is opened, not created: the hook is not asked.
    expect((await core.conversations.openDm(alice, bob.id)).created).toBe(false);
  });

  it('passes each operation its input', async () => {
    const calls: [string, unknown][] = [];
    const record =
      (op: string) =>
      (input: unknown): void => {
        calls.push([op, input]);
      };
    const { core, alice, bob, carol, dm, group } = await setup({
      before: {
        'message.delete': record('message.delete'),
        'reaction.toggle': record('reaction.toggle'),
        'conversation.create': record('conversation.create'),
        'member.add': record('member.add'),
      },
    });
    const { message } = await core.messages.send(alice, dm.id, { content: 'x' });
    await core.messages.toggleReaction(bob, message.id, ' 👍 ');
    await core.messages.delete(alice, message.id);
    await core.conversations.create(alice, { kind: 'group', title: ' Team ', memberIds: [bob.id, alice.id] });
    await core.conversations.addMembers(alice, group.id, [carol.id]);
    expect(calls).toEqual([
      ['reaction.toggle', { actor: bob, conversation: expect.objectContaining({ id: dm.id }), message: expect.objectContaining({ id: message.id }), emoji: '👍' }],
      ['message.delete', { actor: alice, conversation: expect.objectContaining({ id: dm.id }), message: expect.objectContaining({ id: message.id }) }],
      ['conversation.create', { actor: alice, kind: 'group', title: 'Team', objectKey: null, memberIds: [bob.id] }],
      ['member.add', { actor: alice, conversation: expect.objectContaining({ id: group.id }), userIds: [carol.id] }],
    ]);
  });
});

describe('after-hooks', () => {
  it('see each domain event with its payload', async () => {
    const seen: { name: string; payload: unknown }[] = [];
    const after: ParleyHooks['after'] = {};
    for (const name of ['message.created', 'message.updated', 'message.deleted', 'reaction.changed', 'read.updated', 'delivery.updated', 'member.added', 'member.removed', 'conversation.created', 'conversation.updated', 'conversation.deleted'] as const) {
      (after as Record<string, (p: unknown) => void>)[name] = (payload) => {
        seen.push({ name, payload });
      };
    }
    const { core, events, alice, bob, carol, group } = await setup({ after });
    const { message } = await core.messages.send(alice, group.id, { content: 'hi' });
    await core.messages.edit(alice, message.id, 'hi!');
    await core.messages.toggleReaction(bob, message.id, '👍');
    await core.messages.acknowledge(bob, [message.id]);
    await core.messages.markRead(bob, group.id);
    await core.conversations.addMembers(alice, group.id, [carol.id]);
    await core.conversations.removeMember(alice, group.id, carol.id);
    await core.conversations.update(alice, group.id, { title: 'G2' });
    await core.messages.delete(alice, message.id);
    const room = (await core.conversations.create(alice, { kind: 'room', title: 'Lobby' })).conversation;
    await core.conversations.delete(alice, room.id);
    expect(seen.map((s) => s.name)).toEqual(events.map((e) => e.type));
    expect(seen.map((s) => s.name)).toEqual([
      'message.created',
      'message.updated',
      'reaction.changed',
      'delivery.updated',
      'read.updated',
      'member.added',
      'member.removed',
      'conversation.updated',
      'message.deleted',
      'conversation.created',
      'conversation.deleted',
    ]);
    // The payload is the event itself.
    expect(seen.map((s) => s.payload)).toEqual(events);
  });

  it('a throwing or rejecting after-hook is reported and never fails the write', async () => {
    const { core, events, alice, bob, dm, history, subscriberErrors } = await setup({
      after: {
        'message.created': () => {
          throw new Error('sync boom');
        },
        'message.updated': async () => {
          throw new Error('async boom');
        },
        message_sent: () => {
          throw new Error('signal boom');
        },
      },
    });
    const { message } = await core.messages.send(alice, dm.id, { content: 'hi' });
    await core.messages.edit(alice, message.id, 'hi!');
    expect(await history(bob)).toEqual(['hi!']);
    expect(events.map((e) => e.type)).toEqual(['message.created', 'message.updated']);
    await vi.waitFor(() => expect(subscriberErrors).toHaveLength(3));
    expect(subscriberErrors.map((e) => [(e.error as Error).message, e.event.type]).sort()).toEqual([
      ['async boom', 'message.updated'],
      ['signal boom', 'message.created'],
      ['sync boom', 'message.created'],
    ]);
  });

  it('message_sent fires for a DM message with from_user (the sender) and to (the other member)', async () => {
    const sent: MessageSentSignal[] = [];
    const { core, alice, bob, dm, group } = await setup({ after: { message_sent: (p) => void sent.push(p) } });
    const { message } = await core.messages.send(alice, dm.id, { content: 'hello' });
    await core.messages.send(alice, group.id, { content: 'not a DM' });
    const reply = await core.messages.send(bob, dm.id, { content: 'hi back' });
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    expect(sent[0]).toEqual({ message, conversation: expect.objectContaining({ id: dm.id }), from_user: alice, to: bob });
    expect(sent[1]).toEqual({ message: reply.message, conversation: expect.objectContaining({ id: dm.id }), from_user: bob, to: alice });
    // A retried send (same client id) stores and fires nothing.
    await core.messages.send(alice, dm.id, { content: 'once', clientId: 'c1' });
    await core.messages.send(alice, dm.id, { content: 'once', clientId: 'c1' });
    await vi.waitFor(() => expect(sent).toHaveLength(3));
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toHaveLength(3);
  });

  it('message_read fires when unread DM messages are read: from_user is their sender, to the reader', async () => {
    const read: MessageReadSignal[] = [];
    const { core, alice, bob, dm, group } = await setup({ after: { message_read: (p) => void read.push(p) } });
    await core.messages.send(bob, dm.id, { content: 'mine' });
    const m1 = (await core.messages.send(alice, dm.id, { content: 'one' })).message;
    const m2 = (await core.messages.send(alice, dm.id, { content: 'two' })).message;
    await core.messages.send(alice, group.id, { content: 'group' });
    expect(await core.messages.markRead(bob, dm.id)).toBe(2);
    await core.messages.markRead(bob, group.id);
    await vi.waitFor(() => expect(read).toHaveLength(1));
    expect(read[0]).toEqual({ messages: [m1, m2], conversation: expect.objectContaining({ id: dm.id }), from_user: alice, to: bob });
    // Nothing new to read: no signal. Reading only one's own messages: no signal.
    await core.messages.markRead(bob, dm.id);
    await core.messages.send(bob, dm.id, { content: 'mine again' });
    await core.messages.markRead(bob, dm.id);
    await new Promise((r) => setTimeout(r, 20));
    expect(read).toHaveLength(1);
  });

  it('types each after-hook by its name', () => {
    const hooks: ParleyHooks = {
      after: {
        'message.created': (e) => void (e.message.content satisfies string),
        'reaction.changed': (e) => void (e.action satisfies 'added' | 'removed'),
        message_sent: (p: AfterPayloads['message_sent']) => void (p.to.id satisfies number),
      },
    };
    expect(hooks.after).toBeDefined();
  });
});
