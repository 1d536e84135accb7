import { LitElement, css, html, nothing } from 'lit';
import type { ChatMessage, ParleyClient } from '../../../client/src/index.js';
import type { ChatApi } from '../api/chat-api.js';
import type { ChatListItem } from '../api/types.js';
import { I18nController } from '../controllers/i18n-controller.js';
import { controls } from '../styles/theme.js';
import { dialogStyles } from './dialog-styles.js';

/**
 * "Forward message" as a modal dialog: the viewer's conversations as a list; picking one sends
 * the message there as a forward (`forwarded_from_id`). Fires `parley-forwarded`
 * `{chatId, title, message}` and `parley-close`.
 */
export class ParleyForwardDialog extends LitElement {
  static override properties = {
    api: { attribute: false },
    client: { attribute: false },
    message: { attribute: false },
    chats: { state: true },
    error: { state: true },
    busy: { state: true },
  };

  api: ChatApi | null = null;
  client: ParleyClient | null = null;
  message: ChatMessage | null = null;
  chats: ChatListItem[] | null = null;
  error = '';
  busy = false;
  private readonly i18n = new I18nController(this);

  static override styles = [
    controls,
    dialogStyles,
    css`
      ul {
        list-style: none;
        padding: 0;
        margin: 0.4rem 0;
        max-height: 50vh;
        overflow-y: auto;
      }
      li button {
        width: 100%;
        text-align: start;
        margin: 0.15rem 0;
      }
      .quote {
        border-inline-start: 3px solid var(--p-border);
        padding-inline-start: 0.5rem;
        white-space: pre-wrap;
        overflow-wrap: anywhere;
        max-height: 4.5rem;
        overflow: hidden;
      }
    `,
  ];

  override firstUpdated(): void {
    this.renderRoot.querySelector('dialog')?.showModal();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.chats = (await this.api?.chats())?.results ?? [];
    } catch (err) {
      this.chats = [];
      this.error = this.i18n.t('app.error', { detail: err instanceof Error ? err.message : String(err) });
    }
  }

  override render() {
    const t = this.i18n;
    const m = this.message;
    return html`<dialog aria-labelledby="fwd-title" @close=${this.closed}>
      <h2 id="fwd-title">${t.t('forward.title')}</h2>
      ${m ? html`<p class="quote muted">${m.content || (m.attachments ?? []).map((a) => a.name).join(', ')}</p>` : nothing}
      ${this.chats === null
        ? html`<p class="muted" role="status">${t.t('app.loading')}</p>`
        : this.chats.length === 0
          ? html`<p class="muted">${t.t('forward.empty')}</p>`
          : html`<ul>
              ${this.chats.map(
                (c) => html`<li>
                  <button type="button" ?disabled=${this.busy} aria-label=${t.t('forward.to', { title: c.title })} @click=${() => void this.forward(c)}>${c.title}</button>
                </li>`,
              )}
            </ul>`}
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      <div class="footer">
        <button type="button" @click=${() => this.renderRoot.querySelector('dialog')?.close()}>${t.t('forward.cancel')}</button>
      </div>
    </dialog>`;
  }

  private async forward(chat: ChatListItem): Promise<void> {
    const m = this.message;
    if (!m || !this.client) return;
    this.busy = true;
    this.error = '';
    try {
      // No text of our own: the server copies the original's text and files into the forward.
      const sent = await this.client.send(chat.id, '', { forwardedFromId: m.id });
      this.dispatchEvent(new CustomEvent('parley-forwarded', { detail: { chatId: chat.id, title: chat.title, message: sent }, bubbles: true, composed: true }));
      this.renderRoot.querySelector('dialog')?.close();
    } catch (err) {
      this.error = this.i18n.t('app.error', { detail: err instanceof Error ? err.message : String(err) });
    } finally {
      this.busy = false;
    }
  }

  private closed = () => {
    this.dispatchEvent(new CustomEvent('parley-close', { bubbles: true, composed: true }));
  };
}

customElements.define('parley-forward-dialog', ParleyForwardDialog);
