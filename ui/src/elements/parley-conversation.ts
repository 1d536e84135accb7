import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import type { WireMessage } from '../../../client/src/index.js';
import type { Session } from '../api/session.js';
import type { ChatDetail } from '../api/types.js';
import { ClientEventsController } from '../controllers/client-events-controller.js';
import { I18nController } from '../controllers/i18n-controller.js';
import { PresenceController } from '../controllers/presence-controller.js';
import { TypingIndicatorController } from '../controllers/typing-indicator-controller.js';
import { controls } from '../styles/theme.js';
import './parley-composer.js';
import './parley-group-settings.js';
import type { ParleyMessageList } from './parley-message-list.js';
import './parley-message-list.js';

/**
 * One open chat: its header (title, presence or member count, settings for groups), the
 * message window, who is typing, and the composer. Used by the `/messages/` page and by both
 * widgets. Fires `parley-left` when the viewer leaves the chat.
 */
export class ParleyConversation extends LitElement {
  static override properties = {
    session: { attribute: false },
    chatId: { attribute: false },
    heading: {},
    headingLevel: { attribute: false },
    chat: { state: true },
    settingsOpen: { state: true },
  };

  session: Session | null = null;
  chatId: number | null = null;
  /** Overrides the chat's title in the header. */
  heading = '';
  headingLevel: 2 | 3 = 2;
  chat: ChatDetail | null = null;
  settingsOpen = false;
  private readonly names = new Map<number, string>();
  private readonly i18n = new I18nController(this);
  private readonly presence = new PresenceController(this, () => this.session?.client ?? null);
  private readonly typing = new TypingIndicatorController(
    this,
    () => this.session?.client ?? null,
    () => this.chatId,
    () => this.session?.me?.id ?? null,
    (id, username) => this.names.get(id) ?? username,
  );

  static override styles = [
    controls,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-height: 0;
        height: 100%;
        background: var(--p-bg);
      }
      header {
        display: flex;
        align-items: center;
        gap: 0.6rem;
        padding: 0.55rem 0.75rem;
        border-bottom: 1px solid var(--p-border);
      }
      h2,
      h3 {
        margin: 0;
        font-size: 1.05rem;
        flex: 1;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .sub {
        font-size: 0.85rem;
      }
      parley-message-list {
        flex: 1;
      }
      .typing {
        min-height: 1.4rem;
        padding: 0 0.9rem;
        font-size: 0.85rem;
      }
    `,
  ];

  constructor() {
    super();
    new ClientEventsController(this, () => this.session?.client ?? null, {
      chat_updated: (e) => {
        if (e.chat_id === this.chatId) void this.loadChat();
      },
      member_added: (e) => {
        if (e.chat_id === this.chatId) void this.loadChat();
      },
      member_removed: (e) => {
        if (e.chat_id !== this.chatId) return;
        if (e.user_id === this.session?.me?.id) this.dispatchEvent(new CustomEvent('parley-left', { detail: { chatId: e.chat_id }, bubbles: true, composed: true }));
        else void this.loadChat();
      },
    });
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('chatId') || changed.has('session')) {
      this.chat = null;
      this.settingsOpen = false;
      this.typing.clear();
      void this.loadChat();
    }
  }

  private async loadChat(): Promise<void> {
    const id = this.chatId;
    if (!this.session || id === null) return;
    const chat = await this.session.api.chat(id);
    if (id !== this.chatId) return;
    for (const m of chat.members) this.names.set(m.id, m.display_name || m.username);
    this.chat = chat;
  }

  /** Scrolls to a message, loading the history around it. */
  async jumpTo(messageId: number): Promise<void> {
    await this.updateComplete;
    await this.list?.jumpTo(messageId);
  }

  /** Focuses the message box. */
  focusComposer(): void {
    (this.renderRoot.querySelector('parley-composer') as HTMLElement | null)?.focus();
  }

  private get list(): ParleyMessageList | null {
    return this.renderRoot.querySelector('parley-message-list');
  }

  private nameOf = (id: number) => this.names.get(id) ?? `#${id}`;

  override render() {
    const s = this.session;
    if (!s || this.chatId === null) return nothing;
    const t = this.i18n;
    const chat = this.chat;
    const title = this.heading || chat?.title || '';
    const me = s.me?.id ?? null;
    const partner = chat?.chat_type === 'dm' ? chat.members.find((m) => m.id !== me) : undefined;
    const typers = this.typing.names;
    const headingTag = this.headingLevel === 3 ? html`<h3 id="title">${title}</h3>` : html`<h2 id="title">${title}</h2>`;
    return html`<header>
        ${partner
          ? html`<span
              class="dot ${this.presence.isOnline(partner.id) ? 'online' : ''}"
              role="img"
              aria-label=${this.presence.isOnline(partner.id) ? t.t('presence.online') : t.t('presence.offline')}
            ></span>`
          : nothing}
        ${headingTag}
        ${chat && chat.chat_type !== 'dm' ? html`<span class="sub muted">${t.t('pane.members', { count: chat.member_count })}</span>` : nothing}
        ${chat && chat.chat_type === 'group'
          ? html`<button type="button" class="icon" aria-label=${t.t('pane.settings')} title=${t.t('pane.settings')} aria-haspopup="dialog" @click=${() => (this.settingsOpen = true)}>
              <span aria-hidden="true">⚙</span>
            </button>`
          : nothing}
      </header>
      <parley-message-list
        .client=${s.client}
        .api=${s.api}
        .chatId=${this.chatId}
        .selfId=${me}
        .nameOf=${this.nameOf}
        label=${t.t('pane.messages', { title })}
      ></parley-message-list>
      <div class="typing muted" aria-live="polite">
        ${typers.length === 1 ? t.t('typing.one', { name: typers[0] ?? '' }) : typers.length > 1 ? t.t('typing.many', { names: t.list(typers) }) : ''}
      </div>
      <parley-composer .client=${s.client} .chatId=${this.chatId} @parley-sent=${this.onSent}></parley-composer>
      ${this.settingsOpen && chat
        ? html`<parley-group-settings
            .api=${s.api}
            .chat=${chat}
            .selfId=${me}
            @parley-close=${() => (this.settingsOpen = false)}
            @parley-chat-changed=${() => void this.loadChat()}
          ></parley-group-settings>`
        : nothing}`;
  }

  private onSent = (e: CustomEvent<{ message: WireMessage }>) => {
    this.list?.receive(e.detail.message, false);
  };
}

customElements.define('parley-conversation', ParleyConversation);
