import { LitElement, css, html, nothing } from 'lit';
import type { ChatMessage, WireAttachment } from '../../../client/src/index.js';
import { I18nController } from '../controllers/i18n-controller.js';
import { controls } from '../styles/theme.js';
import { fitInto, formatBytes } from './file-size.js';
import { fileIcon } from './icons.js';

/** The largest side of an image preview in a message, in CSS pixels. */
const PREVIEW_PX = 240;

/** The emoji offered in the reaction picker. */
export const reactionChoices = ['👍', '❤️', '😂', '🎉', '😮', '😢'];

/**
 * One message: sender, time, text (always as text), a quote of the message it replies to, a
 * "Forwarded" mark, image previews and file chips, reactions with counts and who reacted, and
 * the menu (react, reply, forward; edit and delete for the viewer's own messages). Fires
 * `parley-react` `{messageId, emoji}`, `parley-edit` `{messageId, content}`, `parley-delete`
 * `{messageId}`, `parley-reply` `{message}`, `parley-forward` `{message}`, `parley-show-parent`
 * `{messageId}` and `parley-view-image` `{attachment}`; it changes nothing itself.
 */
export class ParleyMessageItem extends LitElement {
  static override properties = {
    message: { attribute: false },
    selfId: { attribute: false },
    baseUrl: { attribute: false },
    nameOf: { attribute: false },
    seenBy: { attribute: false },
    grouped: { type: Boolean, reflect: true },
    editing: { state: true },
    picking: { state: true },
  };

  message: ChatMessage | null = null;
  selfId: number | null = null;
  /** The server: file URLs are relative to it (they must not resolve against a widget's host page). */
  baseUrl = '';
  /** Display name of a user id (reaction tooltips). */
  nameOf: (id: number) => string = (id) => `#${id}`;
  /** Names to show as "Seen by …" under this message (own last message only). */
  seenBy: string[] = [];
  grouped = false;
  editing = false;
  picking = false;
  private readonly i18n = new I18nController(this);

  static override styles = [
    controls,
    css`
      :host {
        display: block;
        padding: 0.15rem 0.75rem;
      }
      :host(:focus-visible),
      :host(.flash) {
        outline: 3px solid var(--p-focus);
        outline-offset: -3px;
      }
      .msg {
        display: grid;
        grid-template-columns: 2.25rem 1fr;
        gap: 0 0.6rem;
        padding: 0.3rem 0.4rem;
        border-radius: var(--p-radius);
      }
      .msg:hover,
      .msg:focus-within {
        background: var(--p-surface);
      }
      .msg.mine .text {
        background: var(--p-mine);
      }
      img.avatar {
        width: 2.25rem;
        height: 2.25rem;
        border-radius: 50%;
        grid-row: span 3;
      }
      header {
        display: flex;
        gap: 0.5rem;
        align-items: baseline;
        flex-wrap: wrap;
      }
      .name {
        font-weight: 600;
      }
      time,
      .edited {
        font-size: 0.8rem;
      }
      .text {
        white-space: pre-wrap;
        overflow-wrap: anywhere;
        margin: 0.15rem 0 0;
        padding: 0.3rem 0.55rem;
        border-radius: var(--p-radius);
        width: fit-content;
        max-width: 100%;
      }
      .deleted {
        font-style: italic;
      }
      .reactions,
      .actions,
      .picker {
        display: flex;
        gap: 0.3rem;
        flex-wrap: wrap;
        margin-top: 0.2rem;
      }
      .reactions button {
        border-radius: 1rem;
        padding: 0.05rem 0.5rem;
        font-size: 0.85rem;
      }
      .reactions button[aria-pressed='true'] {
        border-color: var(--p-accent);
        outline: 1px solid var(--p-accent);
      }
      /* Out of sight (but focusable, so the keyboard reaches them) until the message is hovered or focused. */
      .actions {
        position: absolute;
        width: 1px;
        height: 1px;
        overflow: hidden;
        clip: rect(0 0 0 0);
        white-space: nowrap;
      }
      .msg:hover .actions,
      .msg:focus-within .actions,
      .actions.open {
        position: static;
        width: auto;
        height: auto;
        overflow: visible;
        clip: auto;
      }
      .seen {
        font-size: 0.8rem;
        margin-top: 0.15rem;
      }
      textarea {
        min-height: 3rem;
        resize: vertical;
      }
      .forwarded {
        font-size: 0.8rem;
        font-style: italic;
      }
      button.quote {
        display: block;
        text-align: start;
        margin: 0.15rem 0 0;
        padding: 0.2rem 0.5rem;
        border: none;
        border-inline-start: 3px solid var(--p-accent);
        border-radius: 0;
        background: var(--p-surface);
        color: var(--p-fg);
        max-width: 100%;
        font-size: 0.85rem;
        cursor: pointer;
      }
      .quote .qtext {
        display: block;
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
        max-width: 32rem;
      }
      .attachments {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        margin-top: 0.25rem;
      }
      button.thumb {
        padding: 0;
        border: 1px solid var(--p-border);
        border-radius: var(--p-radius);
        overflow: hidden;
        line-height: 0;
        background: var(--p-surface);
        cursor: zoom-in;
      }
      button.thumb img {
        object-fit: cover;
        display: block;
      }
      .file {
        display: inline-flex;
        gap: 0.4rem;
        align-items: center;
        padding: 0.3rem 0.6rem;
        border: 1px solid var(--p-border);
        border-radius: 1rem;
        color: var(--p-fg);
        text-decoration: none;
        max-width: 100%;
      }
      .file .fname {
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
        text-decoration: underline;
      }
      .edit-buttons {
        display: flex;
        gap: 0.4rem;
        margin-top: 0.3rem;
      }
    `,
  ];

  override render() {
    const m = this.message;
    if (!m) return nothing;
    const t = this.i18n;
    const mine = m.sender.id === this.selfId;
    const name = m.sender.display_name || m.sender.username;
    return html`<div class="msg ${mine ? 'mine' : ''}" role="article" aria-label=${t.t('msg.from', { name })}>
      <img class="avatar" src=${m.sender.avatar_url} alt="" width="36" height="36" loading="lazy" />
      <header>
        <span class="name">${name}</span>
        <time class="muted" datetime=${m.created_at}>${t.time(m.created_at)}</time>
        ${m.is_edited && !m.is_deleted ? html`<span class="edited muted">(${t.t('msg.edited')})</span>` : nothing}
      </header>
      <div>
        ${m.forwarded_from_id && !m.is_deleted ? html`<div class="forwarded muted"><span aria-hidden="true">↪ </span>${t.t('msg.forwarded')}</div>` : nothing}
        ${m.parent && !m.is_deleted ? this.renderQuote(m.parent) : nothing}
        ${this.editing
          ? this.renderEditor(m)
          : m.is_deleted
            ? html`<p class="text deleted muted">${t.t('msg.deleted')}</p>`
            : m.content || !m.attachments?.length
              ? html`<p class="text">${m.content}</p>`
              : nothing}
        ${m.is_deleted || !m.attachments?.length ? nothing : this.renderAttachments(m.attachments)}
        ${m.is_deleted ? nothing : this.renderReactions(m)}
        ${m.is_deleted || this.editing ? nothing : this.renderActions(m, mine)}
        ${this.seenBy.length ? html`<div class="seen muted">${t.t('msg.seenBy', { names: t.list(this.seenBy) })}</div>` : nothing}
      </div>
    </div>`;
  }

  private renderQuote(parent: NonNullable<ChatMessage['parent']>) {
    const t = this.i18n;
    const name = parent.sender.display_name || parent.sender.username;
    return html`<button type="button" class="quote" title=${t.t('msg.showParent')} @click=${() => this.fire('parley-show-parent', { messageId: parent.id })}>
      <span class="qname">${t.t('msg.inReplyTo', { name })}</span>
      <span class="qtext ${parent.deleted ? 'muted' : ''}">${parent.deleted ? t.t('msg.parentDeleted') : parent.content}</span>
    </button>`;
  }

  /** An attachment with its URLs made absolute against the server. */
  private resolved(a: WireAttachment): WireAttachment {
    const base = this.baseUrl || location.href;
    const abs = (u: string | null) => (u === null ? null : new URL(u, base).href);
    return { ...a, url: abs(a.url), thumbnail_url: abs(a.thumbnail_url) };
  }

  private renderAttachments(attachments: readonly WireAttachment[]) {
    const t = this.i18n;
    return html`<div class="attachments">
      ${attachments.map((raw) => {
        const a = this.resolved(raw);
        if (a.media_type === 'image' && (a.thumbnail_url || a.url)) {
          const box = fitInto(a.width, a.height, PREVIEW_PX);
          return html`<button type="button" class="thumb" aria-label=${t.t('msg.viewImage', { name: a.name })} aria-haspopup="dialog" @click=${() => this.fire('parley-view-image', { attachment: a })}>
            <img src=${a.thumbnail_url ?? a.url} alt=${a.name} width=${box.width} height=${box.height} loading="lazy" />
          </button>`;
        }
        const size = formatBytes(this.i18n.locale, a.size);
        const chip = html`${fileIcon}<span class="fname">${a.name}</span> <span class="muted">${size}</span>`;
        return a.url
          ? // Named by its visible text (name, size) so speech input can target it; "Download …" is its description.
            html`<a class="file" href=${a.url} download=${a.name} title=${t.t('msg.download', { name: a.name, size })}>${chip}</a>`
          : html`<span class="file">${chip}</span>`;
      })}
    </div>`;
  }

  private renderReactions(m: ChatMessage) {
    if (!m.reactions.length) return nothing;
    const t = this.i18n;
    return html`<div class="reactions">
      ${m.reactions.map((r) => {
        const names = t.list(r.users.map((id) => (id === this.selfId ? t.t('chats.you') : this.nameOf(id))));
        const label = t.t('msg.reactedBy', { emoji: r.emoji, count: r.count, names });
        return html`<button
          type="button"
          class="reaction"
          aria-pressed=${this.selfId !== null && r.users.includes(this.selfId) ? 'true' : 'false'}
          aria-label=${label}
          title=${label}
          @click=${() => this.fire('parley-react', { messageId: m.id, emoji: r.emoji })}
        >
          <span aria-hidden="true">${r.emoji} ${r.count}</span>
        </button>`;
      })}
    </div>`;
  }

  private renderActions(m: ChatMessage, mine: boolean) {
    const t = this.i18n;
    return html`<div class="actions ${this.picking ? 'open' : ''}">
        <button type="button" class="icon" aria-label=${t.t('msg.react')} title=${t.t('msg.react')} aria-expanded=${this.picking ? 'true' : 'false'} @click=${() => (this.picking = !this.picking)}>
          <span aria-hidden="true">☺︎+</span>
        </button>
        <button type="button" class="icon reply" aria-label=${t.t('msg.reply')} title=${t.t('msg.reply')} @click=${() => this.fire('parley-reply', { message: m })}>
          <span aria-hidden="true">↩</span>
        </button>
        <button type="button" class="icon forward" aria-label=${t.t('msg.forward')} title=${t.t('msg.forward')} aria-haspopup="dialog" @click=${() => this.fire('parley-forward', { message: m })}>
          <span aria-hidden="true">↪</span>
        </button>
        ${mine
          ? html`<button type="button" class="icon" aria-label=${t.t('msg.edit')} title=${t.t('msg.edit')} @click=${this.startEdit}><span aria-hidden="true">✎</span></button>
              <button type="button" class="icon" aria-label=${t.t('msg.delete')} title=${t.t('msg.delete')} @click=${() => this.fire('parley-delete', { messageId: m.id })}>
                <span aria-hidden="true">🗑</span>
              </button>`
          : nothing}
      </div>
      ${this.picking
        ? html`<div class="picker" role="group" aria-label=${t.t('msg.react')}>
            ${reactionChoices.map(
              (emoji) =>
                html`<button type="button" class="icon" aria-label=${t.t('msg.reactWith', { emoji })} @click=${() => {
                  this.picking = false;
                  this.fire('parley-react', { messageId: m.id, emoji });
                }}>${emoji}</button>`,
            )}
          </div>`
        : nothing}`;
  }

  private renderEditor(m: ChatMessage) {
    const t = this.i18n;
    return html`<form @submit=${this.saveEdit}>
      <label class="sr-only" for="edit">${t.t('msg.editLabel')}</label>
      <textarea id="edit" .value=${m.content} @keydown=${this.editKey}></textarea>
      <div class="edit-buttons">
        <button type="submit" class="primary">${t.t('msg.save')}</button>
        <button type="button" @click=${() => (this.editing = false)}>${t.t('msg.cancel')}</button>
      </div>
    </form>`;
  }

  private startEdit = async () => {
    this.editing = true;
    await this.updateComplete;
    const ta = this.renderRoot.querySelector('textarea');
    ta?.focus();
    ta?.setSelectionRange(ta.value.length, ta.value.length);
  };

  private editKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') this.editing = false;
    else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      this.saveEdit(e);
    }
  };

  private saveEdit = (e: Event) => {
    e.preventDefault();
    const ta = this.renderRoot.querySelector('textarea');
    const content = ta?.value.trim() ?? '';
    this.editing = false;
    if (this.message && content && content !== this.message.content) this.fire('parley-edit', { messageId: this.message.id, content });
  };

  private fire(type: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}

customElements.define('parley-message-item', ParleyMessageItem);
