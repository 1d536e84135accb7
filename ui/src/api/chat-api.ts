import type { ChatMessage, ParleyClient } from '../../../client/src/index.js';
import type { ChatDetail, ChatListItem, Page, SearchHit, UserDetail } from './types.js';

/**
 * Typed calls of `/messages/api/` over the SDK's `client.request()` (the SDK has no typed
 * helpers for chats, members and search yet; this wraps them locally).
 */
export class ChatApi {
  constructor(readonly client: ParleyClient) {}

  me(): Promise<UserDetail> {
    return this.client.request<UserDetail>('GET', '/auth/me');
  }

  chats(opts: { page?: number; search?: string } = {}): Promise<Page<ChatListItem>> {
    const q = new URLSearchParams({ page: String(opts.page ?? 1) });
    if (opts.search) q.set('search', opts.search);
    return this.client.request('GET', `/messages/api/chats/?${q}`);
  }

  chat(id: number): Promise<ChatDetail> {
    return this.client.request('GET', `/messages/api/chats/${id}/`);
  }

  createChat(body: { chat_type: 'dm' | 'group'; member_ids: number[]; title?: string }): Promise<ChatDetail> {
    return this.client.request('POST', '/messages/api/chats/', body);
  }

  rename(id: number, title: string): Promise<ChatDetail> {
    return this.client.request('PATCH', `/messages/api/chats/${id}/`, { title });
  }

  room(object: string): Promise<ChatDetail> {
    return this.client.request('GET', `/messages/api/rooms/?object=${encodeURIComponent(object)}`);
  }

  join(id: number): Promise<ChatDetail> {
    return this.client.request('POST', `/messages/api/chats/${id}/join/`);
  }

  leave(id: number): Promise<void> {
    return this.client.request('POST', `/messages/api/chats/${id}/leave/`);
  }

  addMembers(id: number, userIds: number[]): Promise<unknown> {
    return this.client.request('POST', `/messages/api/chats/${id}/members/add/`, { user_ids: userIds });
  }

  removeMember(id: number, userId: number): Promise<unknown> {
    return this.client.request('DELETE', `/messages/api/chats/${id}/members/${userId}/remove/`);
  }

  /** Stops (or resumes) notifications of a chat for the viewer; messages still arrive. */
  setMuted(id: number, muted: boolean): Promise<{ is_muted: boolean; muted_until: string | null }> {
    return this.client.request('POST', `/messages/api/chats/${id}/${muted ? 'mute' : 'unmute'}/`, {});
  }

  /** One page of history: the newest page, or the page before / after a message id; oldest first. */
  messages(chatId: number, opts: { before?: number; after?: number } = {}): Promise<Page<ChatMessage>> {
    const q = new URLSearchParams();
    if (opts.before !== undefined) q.set('before', String(opts.before));
    if (opts.after !== undefined) q.set('after', String(opts.after));
    return this.client.request('GET', `/messages/api/chats/${chatId}/messages/?${q}`);
  }

  message(messageId: number): Promise<ChatMessage> {
    return this.client.request('GET', `/messages/api/messages/${messageId}/`);
  }

  edit(messageId: number, content: string): Promise<ChatMessage> {
    return this.client.request('PATCH', `/messages/api/messages/${messageId}/`, { content });
  }

  remove(messageId: number): Promise<void> {
    return this.client.request('DELETE', `/messages/api/messages/${messageId}/`);
  }

  react(messageId: number, emoji: string): Promise<unknown> {
    return this.client.request('POST', `/messages/api/messages/${messageId}/reactions/`, { emoji });
  }

  markRead(chatId: number, messageId?: number): Promise<unknown> {
    return this.client.request('POST', `/messages/api/chats/${chatId}/mark-as-read/`, messageId ? { message_id: messageId } : {});
  }

  searchUsers(q: string): Promise<{ results: UserDetail[] }> {
    return this.client.request('GET', `/messages/api/users/search/?q=${encodeURIComponent(q)}`);
  }

  searchMessages(q: string): Promise<{ count: number; results: SearchHit[] }> {
    return this.client.request('GET', `/messages/api/search/?q=${encodeURIComponent(q)}`);
  }
}
