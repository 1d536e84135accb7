import { LitElement, css, html, nothing } from 'lit';
import type { ChatApi } from '../api/chat-api.js';
import type { UserDetail } from '../api/types.js';
import { I18nController } from '../controllers/i18n-controller.js';
import { controls } from '../styles/theme.js';

/**
 * Searches people by name, username or email (`/users/search/`) and fires `parley-pick`
 * `{user}` when one is chosen. `exclude` hides ids (the viewer, members already in).
 */
export class ParleyUserPicker extends LitElement {
  static override properties = {
    api: { attribute: false },
    exclude: { attribute: false },
    label: {},
    actionKey: {},
    results: { state: true },
    searched: { state: true },
  };

  api: ChatApi | null = null;
  exclude: number[] = [];
  label = '';
  /** `new.message` (start a DM) or `new.add` (add to a list). */
  actionKey: 'new.message' | 'new.add' = 'new.add';
  results: UserDetail[] = [];
  searched = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private seq = 0;
  private readonly i18n = new I18nController(this);

  static override styles = [
    controls,
    css`
      :host {
        display: block;
      }
      ul {
        list-style: none;
        margin: 0.4rem 0 0;
        padding: 0;
        max-height: 14rem;
        overflow: auto;
      }
      li button {
        display: flex;
        width: 100%;
        gap: 0.5rem;
        align-items: center;
        text-align: start;
        background: transparent;
        border-color: transparent;
      }
      li button:hover {
        background: var(--p-surface);
      }
      img {
        width: 1.75rem;
        height: 1.75rem;
        border-radius: 50%;
      }
      .who {
        display: flex;
        flex-direction: column;
      }
      .handle {
        font-size: 0.8rem;
      }
    `,
  ];

  override render() {
    const t = this.i18n;
    const shown = this.results.filter((u) => !this.exclude.includes(u.id));
    return html`<label class="sr-only" for="q">${this.label || t.t('new.searchUsers')}</label>
      <input id="q" type="search" autocomplete="off" placeholder=${this.label || t.t('new.searchUsers')} @input=${this.onInput} />
      ${this.searched && shown.length === 0 ? html`<p class="muted" role="status">${t.t('new.noUsers')}</p>` : nothing}
      <ul>
        ${shown.map((u) => {
          const name = u.display_name || u.username;
          return html`<li>
            <button type="button" aria-label=${t.t(this.actionKey, { name })} @click=${() => this.pick(u)}>
              <img src=${u.avatar_url} alt="" width="28" height="28" />
              <span class="who"><span>${name}</span><span class="handle muted">@${u.username}</span></span>
            </button>
          </li>`;
        })}
      </ul>`;
  }

  override focus(): void {
    this.renderRoot.querySelector('input')?.focus();
  }

  private onInput = (e: Event) => {
    const q = (e.target as HTMLInputElement).value.trim();
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.search(q), 200);
  };

  private async search(q: string): Promise<void> {
    const seq = ++this.seq;
    if (!q || !this.api) {
      this.results = [];
      this.searched = false;
      return;
    }
    const r = await this.api.searchUsers(q);
    if (seq !== this.seq) return;
    this.results = r.results;
    this.searched = true;
  }

  private pick(user: UserDetail): void {
    this.dispatchEvent(new CustomEvent('parley-pick', { detail: { user }, bubbles: true, composed: true }));
  }
}

customElements.define('parley-user-picker', ParleyUserPicker);
