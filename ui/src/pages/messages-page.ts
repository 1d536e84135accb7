import { LitElement, css, html, nothing } from 'lit';
import type { StateEvent } from '../../../client/src/index.js';
import { type Session, sessionFor } from '../api/session.js';
import type { ChatDetail } from '../api/types.js';
import { ClientEventsController } from '../controllers/client-events-controller.js';
import { I18nController } from '../controllers/i18n-controller.js';
import { ThemeController } from '../controllers/theme-controller.js';
import '../elements/parley-chat-list.js';
import type { ParleyChatList } from '../elements/parley-chat-list.js';
import type { ParleyConversation } from '../elements/parley-conversation.js';
import '../elements/parley-conversation.js';
import '../elements/parley-message-search.js';
import '../elements/parley-new-chat.js';
import '../elements/parley-theme-toggle.js';
import { controls, themeTokens } from '../styles/theme.js';

/**
 * The full `/messages/` page: conversations and message search on the left, the open
 * conversation on the right (one column on narrow screens). The open chat is kept in the URL
 * hash (`#chat=12`), so reloads and links keep it.
 */
export class ParleyMessagesPage extends LitElement {
  static override properties = {
    session: { state: true },
    activeId: { state: true },
    creating: { state: true },
    conn: { state: true },
    failed: { state: true },
  };

  session: Session | null = null;
  activeId: number | null = null;
  creating = false;
  conn: StateEvent | null = null;
  failed = false;
  private readonly i18n = new I18nController(this);
  private readonly theme = new ThemeController(this);

  static override styles = [
    themeTokens,
    controls,
    css`
      :host {
        display: grid;
        grid-template-columns: minmax(16rem, 22rem) 1fr;
        grid-template-rows: 100%;
        height: 100vh;
        height: 100dvh;
        font-size: 15px;
      }
      aside {
        display: flex;
        flex-direction: column;
        border-inline-end: 1px solid var(--p-border);
        min-height: 0;
        background: var(--p-bg);
      }
      .top {
        display: flex;
        align-items: center;
        gap: 0.4rem;
        padding: 0.6rem 0.75rem;
        border-bottom: 1px solid var(--p-border);
      }
      h1 {
        font-size: 1.2rem;
        margin: 0;
        flex: 1;
      }
      .conn {
        font-size: 0.75rem;
      }
      parley-chat-list {
        flex: 1;
      }
      main {
        min-height: 0;
        min-width: 0;
      }
      .empty {
        display: grid;
        place-items: center;
        height: 100%;
        padding: 1rem;
        text-align: center;
      }
      .back {
        display: none;
      }
      @media (max-width: 700px) {
        :host {
          grid-template-columns: 1fr;
        }
        :host([open-chat]) aside {
          display: none;
        }
        :host(:not([open-chat])) main {
          display: none;
        }
        .back {
          display: inline-block;
          margin: 0.4rem 0.75rem 0;
        }
      }
      .signed-out {
        grid-column: 1 / -1;
        display: grid;
        place-items: center;
      }
    `,
  ];

  constructor() {
    super();
    new ClientEventsController(this, () => this.session?.client ?? null, {
      state: (e) => (this.conn = e),
      ready: (e) => (this.conn = { state: 'open', transport: e.transport }),
      chat_deleted: (e) => {
        if (e.chat_id === this.activeId) this.open(null);
      },
    });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('hashchange', this.fromHash);
    sessionFor(location.origin).then(
      (s) => {
        this.session = s;
        this.fromHash();
      },
      () => (this.failed = true),
    );
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('hashchange', this.fromHash);
  }

  private fromHash = () => {
    const m = /chat=(\d+)/.exec(location.hash);
    this.setActive(m ? Number(m[1]) : null);
  };

  private setActive(id: number | null): void {
    this.activeId = id;
    this.toggleAttribute('open-chat', id !== null);
  }

  private open(id: number | null): void {
    const hash = id === null ? '' : `#chat=${id}`;
    if (location.hash !== hash) history.replaceState(null, '', hash || location.pathname + location.search);
    this.setActive(id);
  }

  override render() {
    const t = this.i18n;
    const s = this.session;
    if (!s) return html`<p class="signed-out muted" role="status">${this.failed ? t.t('app.error', { detail: '' }) : t.t('app.loading')}</p>`;
    if (!s.me)
      return html`<div class="signed-out">
        <p>${t.t('app.signedOut')} <a href="/">${t.t('app.signIn')}</a></p>
      </div>`;
    const conn = this.conn;
    const connText = !conn || conn.state === 'connecting' ? t.t('conn.connecting') : conn.state === 'closed' ? t.t('conn.closed') : conn.transport === 'polling' ? t.t('conn.polling') : t.t('conn.websocket');
    return html`<aside aria-label=${t.t('chats.label')}>
        <div class="top">
          <h1>${t.t('app.title')}</h1>
          <span class="conn muted" role="status" data-transport=${conn?.state === 'open' ? (conn.transport ?? '') : ''}>${connText}</span>
          <parley-theme-toggle></parley-theme-toggle>
          <button type="button" class="primary new-chat" aria-label=${t.t('chats.new')} title=${t.t('chats.new')} aria-haspopup="dialog" @click=${() => (this.creating = true)}>
            <span aria-hidden="true">+</span>
          </button>
        </div>
        <parley-message-search .api=${s.api} @parley-jump=${this.onJump}></parley-message-search>
        <parley-chat-list .api=${s.api} .client=${s.client} .selfId=${s.me.id} .activeId=${this.activeId} @parley-select=${this.onSelect}></parley-chat-list>
      </aside>
      <main>
        ${this.activeId === null
          ? html`<div class="empty muted">${t.t('pane.empty')}</div>`
          : html`<button type="button" class="back link" @click=${() => this.open(null)}>← ${t.t('pane.back')}</button>
              <parley-conversation
                .session=${s}
                .chatId=${this.activeId}
                @parley-left=${this.onLeft}
                @parley-mute-changed=${this.onMuteChanged}
              ></parley-conversation>`}
      </main>
      ${this.creating
        ? html`<parley-new-chat .api=${s.api} .selfId=${s.me.id} @parley-close=${() => (this.creating = false)} @parley-created=${this.onCreated}></parley-new-chat>`
        : nothing}`;
  }

  private get conversation(): ParleyConversation | null {
    return this.renderRoot.querySelector('parley-conversation');
  }

  private onSelect = async (e: CustomEvent<{ chatId: number }>) => {
    this.open(e.detail.chatId);
    await this.updateComplete;
    this.conversation?.focusComposer();
  };

  private onCreated = async (e: CustomEvent<{ chat: ChatDetail }>) => {
    this.creating = false;
    this.open(e.detail.chat.id);
    await (this.renderRoot.querySelector('parley-chat-list') as ParleyChatList | null)?.reload();
    await this.updateComplete;
    this.conversation?.focusComposer();
  };

  private onJump = async (e: CustomEvent<{ chatId: number; messageId: number }>) => {
    this.open(e.detail.chatId);
    await this.updateComplete;
    await this.conversation?.jumpTo(e.detail.messageId);
  };

  private onMuteChanged = (e: CustomEvent<{ chatId: number; muted: boolean }>) => {
    (this.renderRoot.querySelector('parley-chat-list') as ParleyChatList | null)?.setMuted(e.detail.chatId, e.detail.muted);
  };

  private onLeft = () => {
    this.open(null);
    void (this.renderRoot.querySelector('parley-chat-list') as ParleyChatList | null)?.reload();
  };
}

customElements.define('parley-messages-page', ParleyMessagesPage);
