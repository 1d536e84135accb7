import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import type { ParleyClient } from '../../../client/src/index.js';
import type { ChatApi } from '../api/chat-api.js';
import type { ChatListItem, LastMessage } from '../api/types.js';
import { ClientEventsController } from '../controllers/client-events-controller.js';
import { I18nController } from '../controllers/i18n-controller.js';
import { PresenceController } from '../controllers/presence-controller.js';
import { formatNumber } from '../i18n/index.js';
import { controls } from '../styles/theme.js';

/**
 * The viewer's conversations, most recent first: title, last message, unread badge, presence
 * of DM partners, and a search box. Kept live by SDK events. Fires `parley-select` `{chatId}`.
 */
export class ParleyChatList extends LitElement {
  static override properties = {
    api: { attribute: false },
    client: { attribute: false },
    selfId: { attribute: false },
    activeId: { attribute: false },
    chats: { state: true },
    hasMore: { state: true },
    loaded: { state: true },
  };

  api: ChatApi | null = null;
  client: ParleyClient | null = null;
  selfId: number | null = null;
  activeId: number | null = null;
  chats: ChatListItem[] = [];
  hasMore = false;
  loaded = false;
  private page = 1;
  private search = '';
  private searchTimer: ReturnType<typeof setTimeout> | null = null;
  private reloadTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly i18n = new I18nController(this);
  private readonly presence = new PresenceController(this, () => this.client);

  static override styles = [
    controls,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-height: 0;
      }
      .search {
        padding: 0.5rem 0.75rem;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        overflow-y: auto;
        flex: 1;
      }
      li button {
        display: grid;
        grid-template-columns: 2.5rem 1fr auto;
        gap: 0.15rem 0.6rem;
        width: 100%;
        text-align: start;
        border: none;
        border-radius: 0;
        background: transparent;
        padding: 0.55rem 0.75rem;
        border-bottom: 1px solid var(--p-border);
      }
      li button:hover {
        background: var(--p-surface);
      }
      li button[aria-current='true'] {
        background: var(--p-mine);
      }
      .avatar {
        position: relative;
        grid-row: span 2;
      }
      .avatar img {
        width: 2.5rem;
        height: 2.5rem;
        border-radius: 50%;
      }
      .avatar .dot {
        position: absolute;
        right: 0;
        bottom: 0;
        background: var(--p-bg);
      }
      .avatar .dot.online {
        background: var(--p-online);
      }
      .title {
        font-weight: 600;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .last {
        font-size: 0.85rem;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
        grid-column: 2;
      }
      time {
        font-size: 0.75rem;
      }
      .badge {
        background: var(--p-accent);
        color: var(--p-on-accent);
        border-radius: 1rem;
        min-width: 1.4rem;
        padding: 0 0.4rem;
        font-size: 0.8rem;
        font-weight: 700;
        text-align: center;
        justify-self: end;
        align-self: center;
      }
      .more {
        margin: 0.5rem auto;
        display: block;
      }
      .empty {
        padding: 1rem;
      }
    `,
  ];

  constructor() {
    super();
    const soon = () => this.reloadSoon();
    new ClientEventsController(this, () => this.client, {
      new_message: (e) => {
        const i = this.chats.findIndex((c) => c.id === e.chat_id);
        const chat = this.chats[i];
        if (!chat) return soon();
        const m = e.message;
        const mine = m.sender.id === this.selfId;
        const updated: ChatListItem = {
          ...chat,
          last_message: {
            id: m.id,
            content: m.content,
            created_at: m.created_at,
            sender: m.sender,
            attachments_count: m.attachments?.length ?? 0,
            first_attachment: m.attachments?.[0] ? { name: m.attachments[0].name, media_type: m.attachments[0].media_type } : null,
            forwarded_from_id: m.forwarded_from_id ?? null,
          },
          unread_count: mine || chat.id === this.activeId ? chat.unread_count : chat.unread_count + 1,
        };
        this.chats = [updated, ...this.chats.filter((c) => c.id !== chat.id)];
      },
      message_updated: soon,
      message_deleted: soon,
      chat_created: soon,
      chat_updated: soon,
      chat_deleted: soon,
      member_added: soon,
      member_removed: soon,
      read: (e) => {
        if (e.user_id === this.selfId) this.chats = this.chats.map((c) => (c.id === e.chat_id ? { ...c, unread_count: 0 } : c));
      },
      resync: soon,
    });
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('api')) void this.reload();
    if (changed.has('activeId') && this.activeId !== null) {
      this.chats = this.chats.map((c) => (c.id === this.activeId ? { ...c, unread_count: 0 } : c));
    }
  }

  /** Refetches the list (the first page, with the current search). */
  async reload(): Promise<void> {
    if (!this.api) return;
    this.page = 1;
    const r = await this.api.chats({ page: 1, search: this.search });
    this.chats = r.results.map((c) => (c.id === this.activeId ? { ...c, unread_count: 0 } : c));
    this.hasMore = r.next !== null;
    this.loaded = true;
  }

  /** Shows (or hides) a chat's 🔕 after the viewer muted or unmuted it here; mutes have no live event. */
  setMuted(chatId: number, muted: boolean): void {
    this.chats = this.chats.map((c) => (c.id === chatId ? { ...c, is_muted: muted } : c));
  }

  private reloadSoon(): void {
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => void this.reload(), 150);
  }

  private async more(): Promise<void> {
    if (!this.api) return;
    this.page += 1;
    const r = await this.api.chats({ page: this.page, search: this.search });
    const known = new Set(this.chats.map((c) => c.id));
    this.chats = [...this.chats, ...r.results.filter((c) => !known.has(c.id))];
    this.hasMore = r.next !== null;
  }

  override render() {
    const t = this.i18n;
    return html`<div class="search">
        <label class="sr-only" for="chat-search">${t.t('chats.search')}</label>
        <input id="chat-search" type="search" placeholder=${t.t('chats.search')} @input=${this.onSearch} />
      </div>
      ${this.loaded && this.chats.length === 0 ? html`<p class="empty muted">${t.t('chats.empty')}</p>` : nothing}
      <ul aria-label=${t.t('chats.label')}>
        ${this.chats.map((c) => this.renderChat(c))}
        ${this.hasMore ? html`<li><button type="button" class="more link" @click=${() => void this.more()}>${t.t('chats.more')}</button></li>` : nothing}
      </ul>`;
  }

  private renderChat(c: ChatListItem) {
    const t = this.i18n;
    const partner = c.chat_type === 'dm' ? c.members.find((m) => m.id !== this.selfId) : undefined;
    const avatar = partner?.avatar_url ?? c.members[0]?.avatar_url ?? '';
    const last = c.last_message;
    const online = partner ? this.presence.isOnline(partner.id) : false;
    const lastText = last
      ? html`${last.sender.id === this.selfId ? t.t('chats.you') : last.sender.display_name || last.sender.username}: ${this.preview(last)}`
      : t.t('chats.noMessages');
    return html`<li>
      <button type="button" data-chat-id=${c.id} aria-current=${c.id === this.activeId ? 'true' : 'false'} @click=${() => this.select(c.id)}>
        <span class="avatar">
          ${avatar ? html`<img src=${avatar} alt="" width="40" height="40" />` : nothing}
          ${partner ? html`<span class="dot ${online ? 'online' : ''}" role="img" aria-label=${online ? t.t('presence.online') : t.t('presence.offline')}></span>` : nothing}
        </span>
        <span class="title">${c.title}${c.is_muted ? html` <span class="muted" role="img" aria-label=${t.t('chats.muted')} title=${t.t('chats.muted')}>🔕</span>` : nothing}</span>
        ${last ? html`<time class="muted" datetime=${last.created_at}>${t.time(last.created_at)}</time>` : html`<span></span>`}
        <span class="last muted">${lastText}</span>
        ${c.unread_count > 0 ? html`<span class="badge" aria-label=${t.t('chats.unread', { count: c.unread_count })}>${c.unread_count}</span>` : nothing}
      </button>
    </li>`;
  }

  /**
   * A message's text, or for one without text its files ("📷 Photo", "📎 notes.pdf",
   * "📎 2 files"); "Forwarded: …" in front of a forward. The icon is decoration for screen readers.
   */
  private preview(m: LastMessage) {
    const t = this.i18n;
    const count = m.attachments_count ?? 0;
    const first = m.first_attachment;
    let body: unknown = m.content;
    if (!m.content && count > 0) {
      const [icon, text] =
        count > 1 || !first
          ? ['📎', t.t('chats.files', { count: formatNumber(t.locale, count) })]
          : first.media_type === 'image'
            ? ['📷', t.t('chats.photo')]
            : first.media_type === 'video'
              ? ['🎬', t.t('chats.video')]
              : first.media_type === 'audio'
                ? ['🎤', t.t('chats.audio')]
                : ['📎', first.name];
      body = html`<span class="file-preview"><span aria-hidden="true">${icon} </span>${text}</span>`;
    }
    if (m.forwarded_from_id == null) return body;
    // The catalog's "Forwarded: {text}" keeps each language's word order and punctuation.
    const [before = '', after = ''] = t.t('chats.forwarded', { text: '\u0000' }).split('\u0000');
    return html`${before}${body}${after}`;
  }

  private select(chatId: number): void {
    this.dispatchEvent(new CustomEvent('parley-select', { detail: { chatId }, bubbles: true, composed: true }));
  }

  private onSearch = (e: Event) => {
    this.search = (e.target as HTMLInputElement).value.trim();
    if (this.searchTimer) clearTimeout(this.searchTimer);
    this.searchTimer = setTimeout(() => void this.reload(), 200);
  };
}

customElements.define('parley-chat-list', ParleyChatList);
