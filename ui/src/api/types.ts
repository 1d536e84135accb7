import type { ChatMessage, WireUser } from '../../../client/src/index.js';

/**
 * REST shapes of `/messages/api/` the UI reads. The SDK types live events only; these mirror
 * `src/faces/rest/schemas.ts` for the calls the UI makes through `client.request()`.
 */
export interface UserDetail extends WireUser {
  email: string;
}

/** A chat's last message as the list shows it; the file fields are absent from older servers. */
export interface LastMessage {
  id: number;
  content: string;
  created_at: string;
  sender: WireUser;
  /** How many files the message carries. */
  attachments_count?: number;
  /** The first file, to preview a message without text. */
  first_attachment?: { name: string; media_type: 'image' | 'video' | 'audio' | 'file' } | null;
  forwarded_from_id?: number | null;
}

export interface ChatListItem {
  id: number;
  title: string;
  chat_type: 'dm' | 'group' | 'channel' | 'room';
  created_at: string;
  updated_at: string;
  is_public: boolean;
  object: string | null;
  members: WireUser[];
  last_message: LastMessage | null;
  unread_count: number;
  /** The viewer muted this chat: no notifications, messages still arrive and count as unread. */
  is_muted?: boolean;
}

export interface ChatDetail extends Omit<ChatListItem, 'last_message' | 'unread_count'> {
  admins: number[];
  member_count: number;
  is_member: boolean;
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface SearchHit {
  id: number;
  chat: number;
  content: string;
  /** HTML-escaped content with matches wrapped in `<mark>`. */
  highlighted: string;
  created_at: string;
  sender: WireUser;
}

/** A message with its attachments and relations. */
export type Message = ChatMessage;
