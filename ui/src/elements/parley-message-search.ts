import { LitElement, css, html, nothing } from 'lit';
import type { ChatApi } from '../api/chat-api.js';
import type { SearchHit } from '../api/types.js';
import { I18nController } from '../controllers/i18n-controller.js';
import { controls } from '../styles/theme.js';
import { renderHighlighted } from './highlight.js';

/**
 * Full-text search over the viewer's messages, results with the matches highlighted; choosing
 * one fires `parley-jump` `{chatId, messageId}`.
 */
export class ParleyMessageSearch extends LitElement {
  static override properties = {
    api: { attribute: false },
    results: { state: true },
    query: { state: true },
  };

  api: ChatApi | null = null;
  results: SearchHit[] | null = null;
  query = '';
  private seq = 0;
  private readonly i18n = new I18nController(this);

  static override styles = [
    controls,
    css`
      :host {
        display: block;
        padding: 0.5rem 0.75rem 0;
      }
      form {
        display: flex;
        gap: 0.4rem;
      }
      ul {
        list-style: none;
        margin: 0.4rem 0;
        padding: 0;
        max-height: 40vh;
        overflow: auto;
      }
      li button {
        display: block;
        width: 100%;
        text-align: start;
        background: transparent;
        border-color: transparent;
        border-bottom: 1px solid var(--p-border);
        border-radius: 0;
      }
      li button:hover {
        background: var(--p-surface);
      }
      .who {
        font-size: 0.8rem;
      }
      mark {
        background: var(--p-mark);
        color: inherit;
      }
      .head {
        display: flex;
        justify-content: space-between;
        align-items: center;
        font-size: 0.85rem;
      }
    `,
  ];

  override render() {
    const t = this.i18n;
    return html`<form role="search" @submit=${this.submit}>
        <label class="sr-only" for="msg-search">${t.t('search.label')}</label>
        <input id="msg-search" type="search" placeholder=${t.t('search.label')} @input=${this.onInput} />
      </form>
      ${this.results
        ? html`<div class="head">
              <span class="muted" role="status">${this.results.length ? t.t('search.results', { count: this.results.length }) : t.t('search.none')}</span>
              <button type="button" class="icon" aria-label=${t.t('search.close')} @click=${this.clear}><span aria-hidden="true">✕</span></button>
            </div>
            <ul aria-label=${t.t('search.label')}>
              ${this.results.map(
                (r) => html`<li>
                  <button type="button" class="hit" @click=${() => this.jump(r)}>
                    <span class="who muted">${r.sender.display_name || r.sender.username} · <time datetime=${r.created_at}>${t.time(r.created_at)}</time></span><br />
                    <span class="snippet">${renderHighlighted(r.highlighted)}</span>
                  </button>
                </li>`,
              )}
            </ul>`
        : nothing}`;
  }

  private timer: ReturnType<typeof setTimeout> | null = null;

  private onInput = (e: Event) => {
    this.query = (e.target as HTMLInputElement).value.trim();
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), 250);
  };

  private submit = (e: Event) => {
    e.preventDefault();
    void this.run();
  };

  private async run(): Promise<void> {
    const seq = ++this.seq;
    if (!this.query || !this.api) {
      this.results = null;
      return;
    }
    const r = await this.api.searchMessages(this.query);
    if (seq === this.seq) this.results = r.results;
  }

  private clear = () => {
    this.results = null;
    const input = this.renderRoot.querySelector('input');
    if (input) {
      input.value = '';
      input.focus();
    }
  };

  private jump(r: SearchHit): void {
    this.dispatchEvent(new CustomEvent('parley-jump', { detail: { chatId: r.chat, messageId: r.id }, bubbles: true, composed: true }));
  }
}

customElements.define('parley-message-search', ParleyMessageSearch);
