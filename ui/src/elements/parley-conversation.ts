import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import type { ChatMessage, WireAttachment } from '../../../client/src/index.js';
import type { Session } from '../api/session.js';
import type { ChatDetail } from '../api/types.js';
import { ClientEventsController } from '../controllers/client-events-controller.js';
import { I18nController } from '../controllers/i18n-controller.js';
import { PresenceController } from '../controllers/presence-controller.js';
import { TypingIndicatorController } from '../controllers/typing-indicator-controller.js';
import { controls } from '../styles/theme.js';
import type { ParleyComposer } from './parley-composer.js';
import './parley-composer.js';
import './parley-forward-dialog.js';
import './parley-image-viewer.js';
import './parley-group-settings.js';
import type { ParleyMessageList } from './parley-message-list.js';
import './parley-message-list.js';

/**
 * One open chat: its header (title, presence or member count, settings for groups), the
 * message window, who is typing, and the composer. Files dropped anywhere on it are attached;
 * it opens the image viewer and the forward dialog for its messages. Used by the `/messages/`
 * page and by both widgets. Fires `parley-left` when the viewer leaves the chat.
 */
export class ParleyConversation extends LitElement {
  static override properties = {
    session: { attribute: false },
    chatId: { attribute: false },
    heading: {},
    headingLevel: { attribute: false },
    chat: { state: true },
    settingsOpen: { state: true },
    dragging: { state: true },
    viewing: { state: true },
    forwarding: { state: true },
    status: { state: true },
    muting: { state: true },
  };

  session: Session | null = null;
  chatId: number | null = null;
  /** Overrides the chat's title in the header. */
  heading = '';
  headingLevel: 2 | 3 = 2;
  chat: ChatDetail | null = null;
  settingsOpen = false;
  /** Files are being dragged over the pane: the drop target shows. */
  dragging = false;
  /** The image open in the viewer. */
  viewing: WireAttachment | null = null;
  /** The message being forwarded (its dialog is open). */
  forwarding: ChatMessage | null = null;
  /** A short confirmation for screen readers and sighted users ("forwarded to …"). */
  status = '';
  /** A mute or unmute request is under way. */
  muting = false;
  private dragDepth = 0;
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
      :host {
        position: relative;
      }
      .drop {
        position: absolute;
        inset: 0.4rem;
        z-index: 2;
        display: grid;
        place-items: center;
        border: 3px dashed var(--p-accent);
        border-radius: var(--p-radius);
        background: color-mix(in srgb, var(--p-bg) 88%, transparent);
        color: var(--p-fg);
        font-weight: 600;
        pointer-events: none;
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

  override connectedCallback(): void {
    super.connectedCallback();
    this.addEventListener('dragenter', this.dragEnter);
    this.addEventListener('dragover', this.dragOver);
    this.addEventListener('dragleave', this.dragLeave);
    this.addEventListener('drop', this.drop);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.removeEventListener('dragenter', this.dragEnter);
    this.removeEventListener('dragover', this.dragOver);
    this.removeEventListener('dragleave', this.dragLeave);
    this.removeEventListener('drop', this.drop);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('chatId') || changed.has('session')) {
      this.chat = null;
      this.settingsOpen = false;
      this.viewing = null;
      this.forwarding = null;
      this.status = '';
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
    this.composer?.focus();
  }

  private get composer(): ParleyComposer | null {
    return this.renderRoot.querySelector('parley-composer');
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
        ${chat?.is_member
          ? html`<button
              type="button"
              class="icon mute"
              aria-label=${chat.is_muted ? t.t('pane.unmute') : t.t('pane.mute')}
              title=${chat.is_muted ? t.t('pane.unmute') : t.t('pane.mute')}
              ?disabled=${this.muting}
              @click=${this.toggleMute}
            >
              <span aria-hidden="true">${chat.is_muted ? '🔔' : '🔕'}</span>
            </button>`
          : nothing}
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
        .baseUrl=${s.baseUrl}
        .nameOf=${this.nameOf}
        label=${t.t('pane.messages', { title })}
        @parley-reply=${this.onReply}
        @parley-forward=${this.onForward}
        @parley-view-image=${this.onView}
      ></parley-message-list>
      <div class="typing muted" aria-live="polite">
        ${typers.length === 1 ? t.t('typing.one', { name: typers[0] ?? '' }) : typers.length > 1 ? t.t('typing.many', { names: t.list(typers) }) : ''}
      </div>
      <div class="sr-only" role="status">${this.status}</div>
      <parley-composer .client=${s.client} .chatId=${this.chatId} @parley-sent=${this.onSent}></parley-composer>
      ${this.dragging ? html`<div class="drop" aria-hidden="true">${t.t('compose.dropHere')}</div>` : nothing}
      ${this.viewing ? html`<parley-image-viewer .attachment=${this.viewing} @parley-close=${() => (this.viewing = null)}></parley-image-viewer>` : nothing}
      ${this.forwarding
        ? html`<parley-forward-dialog
            .api=${s.api}
            .client=${s.client}
            .message=${this.forwarding}
            @parley-close=${() => (this.forwarding = null)}
            @parley-forwarded=${this.onForwarded}
          ></parley-forward-dialog>`
        : nothing}
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

  /**
   * Mutes or unmutes the chat for the viewer, announces it, and fires `parley-mute-changed`
   * `{chatId, muted}` so the conversation list shows its 🔕 (mutes have no live event).
   */
  private toggleMute = async () => {
    const s = this.session;
    const chat = this.chat;
    if (!s || !chat || this.muting) return;
    this.muting = true;
    try {
      const r = await s.api.setMuted(chat.id, !chat.is_muted);
      if (this.chat?.id !== chat.id) return;
      this.chat = { ...this.chat, is_muted: r.is_muted };
      const title = this.heading || chat.title;
      this.status = this.i18n.t(r.is_muted ? 'pane.mutedDone' : 'pane.unmutedDone', { title });
      this.dispatchEvent(new CustomEvent('parley-mute-changed', { detail: { chatId: chat.id, muted: r.is_muted }, bubbles: true, composed: true }));
    } catch {
      this.status = this.i18n.t('app.error', { detail: '' });
    } finally {
      this.muting = false;
    }
  };

  private onSent = (e: CustomEvent<{ message: ChatMessage }>) => {
    this.list?.receive(e.detail.message, false);
  };

  private onReply = (e: CustomEvent<{ message: ChatMessage }>) => {
    this.composer?.replyTo(e.detail.message);
  };

  private onForward = (e: CustomEvent<{ message: ChatMessage }>) => {
    this.status = '';
    this.forwarding = e.detail.message;
  };

  private onForwarded = (e: CustomEvent<{ chatId: number; title: string; message: ChatMessage }>) => {
    this.status = this.i18n.t('forward.done', { title: e.detail.title });
    if (e.detail.chatId === this.chatId) this.list?.receive(e.detail.message, false);
  };

  private onView = (e: CustomEvent<{ attachment: WireAttachment }>) => {
    this.viewing = e.detail.attachment;
  };

  // Drag and drop: only drags that carry files count; the depth counter copes with the
  // enter/leave pairs of the children the pointer crosses.
  private dragEnter = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    this.dragDepth++;
    this.dragging = true;
  };

  private dragOver = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    this.dragging = true;
  };

  private dragLeave = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    this.dragDepth = Math.max(0, this.dragDepth - 1);
    if (this.dragDepth === 0) this.dragging = false;
  };

  private drop = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    this.dragDepth = 0;
    this.dragging = false;
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length) this.composer?.addFiles(files);
  };
}

customElements.define('parley-conversation', ParleyConversation);

function hasFiles(e: DragEvent): boolean {
  return !!e.dataTransfer && [...e.dataTransfer.types].includes('Files');
}
