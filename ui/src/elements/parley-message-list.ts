import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { ChatMessage, ParleyClient } from '../../../client/src/index.js';
import type { ChatApi } from '../api/chat-api.js';
import { ClientEventsController } from '../controllers/client-events-controller.js';
import { I18nController } from '../controllers/i18n-controller.js';
import { controls } from '../styles/theme.js';
import './parley-message-item.js';

/** The most messages kept in the DOM at once; older or newer ones are reloaded on scroll. */
export const MESSAGE_WINDOW = 150;
const EDGE_PX = 150;

/**
 * The messages of one chat, as a window over its history: the newest page first, older pages
 * loaded when scrolled to the top, newer ones when scrolled back down, and never more than
 * `MESSAGE_WINDOW` messages in the DOM (the far end is dropped as the other end grows). Live
 * events from the SDK add, edit, delete and react; new messages from others are announced in
 * a polite live region and marked read while the page is visible.
 */
export class ParleyMessageList extends LitElement {
  static override properties = {
    client: { attribute: false },
    api: { attribute: false },
    chatId: { attribute: false },
    selfId: { attribute: false },
    baseUrl: { attribute: false },
    nameOf: { attribute: false },
    label: {},
    messages: { state: true },
    hasOlder: { state: true },
    hasNewer: { state: true },
    loading: { state: true },
    announcement: { state: true },
    newBelow: { state: true },
  };

  client: ParleyClient | null = null;
  api: ChatApi | null = null;
  chatId: number | null = null;
  selfId: number | null = null;
  /** The server's origin, for the messages' file URLs. */
  baseUrl = '';
  nameOf: (id: number) => string = (id) => `#${id}`;
  label = '';
  messages: ChatMessage[] = [];
  hasOlder = false;
  hasNewer = false;
  loading = false;
  announcement = '';
  newBelow = false;
  /** Read position of each member (message id), from loads and live `read` events. */
  private readonly readUpTo = new Map<number, number>();
  /**
   * Per message, the members whose live `read` past it made the list ask the server for its
   * `read_by`: once each, since a member who joined after it stays left out whatever they read.
   */
  private readonly askedReaders = new Map<number, Set<number>>();
  private loadToken = 0;
  private readonly i18n = new I18nController(this);

  static override styles = [
    controls,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-height: 0;
        position: relative;
      }
      .scroller {
        flex: 1;
        overflow-y: auto;
        min-height: 0;
        padding: 0.5rem 0;
      }
      .edge {
        text-align: center;
        font-size: 0.85rem;
        padding: 0.5rem;
      }
      .below {
        position: absolute;
        bottom: 0.5rem;
        left: 50%;
        transform: translateX(-50%);
      }
    `,
  ];

  constructor() {
    super();
    new ClientEventsController(this, () => this.client, {
      new_message: (e) => {
        if (e.chat_id === this.chatId) this.receive(e.message, true);
      },
      message_updated: (e) => {
        if (e.chat_id === this.chatId) this.replace(e.message);
      },
      message_deleted: (e) => {
        if (e.chat_id === this.chatId) this.dropOrFlag(e.message_id);
      },
      message_hidden: (e) => {
        if (e.chat_id === this.chatId) this.messages = this.messages.filter((m) => m.id !== e.message_id);
      },
      reaction_updated: (e) => {
        if (e.chat_id !== this.chatId) return;
        this.messages = this.messages.map((m) => (m.id === e.message_id ? { ...m, reactions: e.reactions } : m));
      },
      read: (e) => {
        if (e.chat_id !== this.chatId || e.message_id === null) return;
        this.readUpTo.set(e.user_id, Math.max(this.readUpTo.get(e.user_id) ?? 0, e.message_id));
        this.refreshSeenBy(e.user_id, e.message_id);
        this.requestUpdate();
      },
      ready: (e) => {
        // After a resync the log could not replay what was missed: reload the newest page.
        if (e.reconnected) return;
      },
      resync: () => void this.loadLatest(),
    });
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('chatId') || changed.has('api')) void this.loadLatest();
  }

  override render() {
    const t = this.i18n;
    const ownLast = this.ownLast();
    const seenBy = ownLast ? this.readersOf(ownLast) : [];
    let prevSender: number | null = null;
    return html`<div class="scroller" tabindex="0" role="region" aria-label=${this.label} aria-busy=${this.loading ? 'true' : 'false'} @scroll=${this.onScroll}>
        <div class="edge muted">${this.hasOlder ? (this.loading ? t.t('pane.olderLoading') : '') : this.messages.length || !this.loading ? t.t('pane.start') : ''}</div>
        ${repeat(
          this.messages,
          (m) => m.id,
          (m) => {
            const grouped = prevSender === m.sender.id;
            prevSender = m.sender.id;
            return html`<parley-message-item
              data-id=${m.id}
              .message=${m}
              .selfId=${this.selfId}
              .baseUrl=${this.baseUrl}
              .nameOf=${this.nameOf}
              .seenBy=${m === ownLast ? seenBy : []}
              ?grouped=${grouped}
              @parley-react=${this.onReact}
              @parley-edit=${this.onEdit}
              @parley-delete=${this.onDelete}
              @parley-show-parent=${this.onShowParent}
            ></parley-message-item>`;
          },
        )}
      </div>
      ${this.newBelow || this.hasNewer
        ? html`<button type="button" class="below primary" @click=${() => void this.loadLatest()}>${this.newBelow ? t.t('pane.newBelow') : t.t('pane.jumpLatest')}</button>`
        : nothing}
      <div class="sr-only" role="log" aria-live="polite" aria-atomic="false">${this.announcement}</div>`;
  }

  /** Reloads the newest page and scrolls to the bottom. */
  async loadLatest(): Promise<void> {
    const api = this.api;
    const chatId = this.chatId;
    if (!api || chatId === null) {
      this.messages = [];
      return;
    }
    const token = ++this.loadToken;
    this.loading = true;
    this.newBelow = false;
    try {
      const page = await api.messages(chatId);
      if (token !== this.loadToken) return;
      this.readUpTo.clear();
      this.askedReaders.clear();
      this.messages = page.results;
      this.noteReads(page.results);
      this.hasOlder = page.count > page.results.length;
      this.hasNewer = false;
    } finally {
      if (token === this.loadToken) this.loading = false;
    }
    await this.updateComplete;
    this.scrollToBottom();
    this.markRead();
  }

  /** Loads the history around a message (a search hit), scrolls to it and focuses it. */
  async jumpTo(messageId: number): Promise<void> {
    const api = this.api;
    const chatId = this.chatId;
    if (!api || chatId === null) return;
    const token = ++this.loadToken;
    this.loading = true;
    try {
      const [before, target, after] = await Promise.all([
        api.messages(chatId, { before: messageId }),
        api.message(messageId),
        api.messages(chatId, { after: messageId }),
      ]);
      const upTo = { count: before.count + 1, results: [...before.results, target] };
      if (token !== this.loadToken) return;
      const half = Math.floor(MESSAGE_WINDOW / 3);
      this.readUpTo.clear();
      this.askedReaders.clear();
      this.messages = [...upTo.results, ...after.results.slice(0, half)];
      this.noteReads(this.messages);
      this.hasOlder = upTo.count > upTo.results.length;
      this.hasNewer = after.count > Math.min(after.results.length, half);
    } finally {
      if (token === this.loadToken) this.loading = false;
    }
    await this.updateComplete;
    const item = this.itemOf(messageId);
    if (item) {
      item.tabIndex = -1;
      item.scrollIntoView({ block: 'center' });
      item.focus({ preventScroll: true });
      item.classList.add('flash');
      setTimeout(() => item.classList.remove('flash'), 2500);
    }
  }

  private get scroller(): HTMLElement | null {
    return this.renderRoot.querySelector('.scroller');
  }

  private itemOf(id: number): HTMLElement | null {
    return this.renderRoot.querySelector(`parley-message-item[data-id="${id}"]`);
  }

  private scrollToBottom(): void {
    const s = this.scroller;
    if (s) s.scrollTop = s.scrollHeight;
  }

  private atBottom(): boolean {
    const s = this.scroller;
    return !s || s.scrollHeight - s.scrollTop - s.clientHeight < EDGE_PX;
  }

  private onScroll = () => {
    const s = this.scroller;
    if (!s || this.loading) return;
    if (s.scrollTop < EDGE_PX && this.hasOlder) void this.loadOlder();
    else if (this.atBottom()) {
      if (this.hasNewer) void this.loadNewer();
      else if (this.newBelow) {
        this.newBelow = false;
        this.markRead();
      }
    }
  };

  private async loadOlder(): Promise<void> {
    const api = this.api;
    const chatId = this.chatId;
    const first = this.messages[0];
    if (!api || chatId === null || !first) return;
    const token = ++this.loadToken;
    this.loading = true;
    try {
      const page = await api.messages(chatId, { before: first.id });
      if (token !== this.loadToken) return;
      await this.keepPosition(first.id, () => {
        const all = [...page.results, ...this.messages];
        this.hasOlder = page.count > page.results.length;
        if (all.length > MESSAGE_WINDOW) {
          this.messages = all.slice(0, MESSAGE_WINDOW);
          this.hasNewer = true;
        } else this.messages = all;
        this.noteReads(page.results);
      });
    } finally {
      if (token === this.loadToken) this.loading = false;
    }
  }

  private async loadNewer(): Promise<void> {
    const api = this.api;
    const chatId = this.chatId;
    const last = this.messages[this.messages.length - 1];
    if (!api || chatId === null || !last) return;
    const token = ++this.loadToken;
    this.loading = true;
    try {
      const page = await api.messages(chatId, { after: last.id });
      if (token !== this.loadToken) return;
      await this.keepPosition(last.id, () => {
        const all = [...this.messages, ...page.results];
        this.hasNewer = page.count > page.results.length;
        if (all.length > MESSAGE_WINDOW) {
          this.messages = all.slice(all.length - MESSAGE_WINDOW);
          this.hasOlder = true;
        } else this.messages = all;
        this.noteReads(page.results);
      });
    } finally {
      if (token === this.loadToken) this.loading = false;
    }
    if (!this.hasNewer) this.markRead();
  }

  /** Applies a change to the window without moving what the reader sees (anchored on a message). */
  private async keepPosition(anchorId: number, change: () => void): Promise<void> {
    const s = this.scroller;
    const before = this.itemOf(anchorId);
    const offset = s && before ? before.offsetTop - s.scrollTop : null;
    change();
    await this.updateComplete;
    const after = this.itemOf(anchorId);
    if (s && after && offset !== null) s.scrollTop = after.offsetTop - offset;
  }

  /** Adds a message (live or just sent): at the bottom when the window reaches the present. */
  receive(m: ChatMessage, live: boolean): void {
    if (this.messages.some((x) => x.id === m.id)) return this.replace(m);
    if (this.hasNewer) {
      if (m.sender.id !== this.selfId) this.newBelow = true;
      return;
    }
    const stick = this.atBottom() || m.sender.id === this.selfId;
    const all = [...this.messages, m];
    if (all.length > MESSAGE_WINDOW) {
      this.messages = all.slice(all.length - MESSAGE_WINDOW);
      this.hasOlder = true;
    } else this.messages = all;
    this.noteReads([m]);
    if (live && m.sender.id !== this.selfId) {
      const name = m.sender.display_name || m.sender.username;
      this.announcement = this.i18n.t('msg.new', { name, text: m.content || (m.attachments ?? []).map((a) => a.name).join(', ') });
      if (!stick) this.newBelow = true;
    }
    void this.updateComplete.then(() => {
      if (stick) {
        this.scrollToBottom();
        this.markRead();
      }
    });
  }

  private replace(m: Omit<ChatMessage, 'reactions' | 'read_by'> & Partial<Pick<ChatMessage, 'reactions' | 'read_by'>>): void {
    // A live update carries no reactions or readers (their own frames update them): keep the
    // known ones. Readers only ever grow.
    this.messages = this.messages.map((x) => (x.id === m.id ? { ...x, ...m, read_by: [...new Set([...x.read_by, ...(m.read_by ?? [])])] } : x));
  }

  private dropOrFlag(id: number): void {
    // Soft-deleted messages stay as "deleted" (the server says so in later loads); hard deletes vanish.
    this.messages = this.messages.filter((x) => x.id !== id);
  }

  private noteReads(messages: readonly ChatMessage[]): void {
    for (const m of messages) for (const uid of m.read_by) this.readUpTo.set(uid, Math.max(this.readUpTo.get(uid) ?? 0, m.id));
  }

  private ownLast(): ChatMessage | undefined {
    return [...this.messages].reverse().find((m) => m.sender.id === this.selfId && !m.is_deleted);
  }

  /**
   * "Seen by": the message's own `read_by`, never a read position alone, because a member who
   * joined after the message has a read position past it without having read it.
   */
  private readersOf(m: ChatMessage): string[] {
    return m.read_by.filter((uid) => uid !== this.selfId).map((uid) => this.nameOf(uid));
  }

  /**
   * A member read up to `upTo`. Whether that includes the own last message depends on whether
   * they were a member when it was sent, which only the server knows: its `read_by` is asked
   * again, once per member and message.
   */
  private refreshSeenBy(userId: number, upTo: number): void {
    const own = this.ownLast();
    const api = this.api;
    if (!own || !api || userId === this.selfId || upTo < own.id || own.read_by.includes(userId)) return;
    const asked = this.askedReaders.get(own.id) ?? new Set<number>();
    if (asked.has(userId)) return;
    asked.add(userId);
    this.askedReaders.set(own.id, asked);
    const chatId = this.chatId;
    api
      .message(own.id)
      .then((fresh) => {
        if (chatId === this.chatId) this.replace(fresh);
      })
      .catch(() => asked.delete(userId));
  }

  private markReadTimer: ReturnType<typeof setTimeout> | null = null;

  /** Tells the server the newest message shown has been read (debounced; only while the page is visible). */
  private markRead(): void {
    if (this.markReadTimer) return;
    this.markReadTimer = setTimeout(() => {
      this.markReadTimer = null;
      const last = this.messages[this.messages.length - 1];
      if (!last || !this.api || this.chatId === null || this.hasNewer || document.visibilityState !== 'visible') return;
      if (last.sender.id === this.selfId && this.readUpTo.get(this.selfId) === last.id) return;
      if (this.selfId !== null) this.readUpTo.set(this.selfId, last.id);
      this.api.markRead(this.chatId, last.id).catch(() => {});
      this.dispatchEvent(new CustomEvent('parley-read', { detail: { chatId: this.chatId }, bubbles: true, composed: true }));
    }, 300);
  }

  /** A reply's quote was clicked: show the parent, from the loaded window when it is there. */
  private onShowParent = (e: CustomEvent<{ messageId: number }>) => {
    const item = this.itemOf(e.detail.messageId);
    if (!item) return void this.jumpTo(e.detail.messageId).catch((err: unknown) => this.fail(err));
    item.tabIndex = -1;
    item.scrollIntoView({ block: 'center' });
    item.focus({ preventScroll: true });
    item.classList.add('flash');
    setTimeout(() => item.classList.remove('flash'), 2500);
  };

  private onReact = (e: CustomEvent<{ messageId: number; emoji: string }>) => {
    this.api?.react(e.detail.messageId, e.detail.emoji).catch((err: unknown) => this.fail(err));
  };

  private onEdit = (e: CustomEvent<{ messageId: number; content: string }>) => {
    this.api
      ?.edit(e.detail.messageId, e.detail.content)
      .then((m) => this.replace(m))
      .catch((err: unknown) => this.fail(err));
  };

  private onDelete = (e: CustomEvent<{ messageId: number }>) => {
    const id = e.detail.messageId;
    this.api
      ?.remove(id)
      .then(() => this.dropOrFlag(id))
      .catch((err: unknown) => this.fail(err));
  };

  private fail(err: unknown): void {
    this.dispatchEvent(new CustomEvent('parley-error', { detail: { error: err }, bubbles: true, composed: true }));
  }
}

customElements.define('parley-message-list', ParleyMessageList);
