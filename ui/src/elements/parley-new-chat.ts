import { LitElement, css, html, nothing } from 'lit';
import type { ChatApi } from '../api/chat-api.js';
import type { ChatDetail, UserDetail } from '../api/types.js';
import { I18nController } from '../controllers/i18n-controller.js';
import { controls } from '../styles/theme.js';
import { dialogStyles } from './dialog-styles.js';
import './parley-user-picker.js';

/**
 * "New conversation" as a modal dialog: a direct message (pick one person) or a group (a
 * title and members). Fires `parley-created` `{chat}` and `parley-close`.
 */
export class ParleyNewChat extends LitElement {
  static override properties = {
    api: { attribute: false },
    selfId: { attribute: false },
    mode: { state: true },
    picked: { state: true },
    error: { state: true },
  };

  api: ChatApi | null = null;
  selfId: number | null = null;
  mode: 'dm' | 'group' = 'dm';
  picked: UserDetail[] = [];
  error = '';
  private readonly i18n = new I18nController(this);

  static override styles = [
    controls,
    dialogStyles,
    css`
      .tabs {
        display: flex;
        gap: 0.4rem;
        margin-bottom: 0.75rem;
      }
      .tabs button[aria-pressed='true'] {
        background: var(--p-accent);
        color: var(--p-on-accent);
      }
    `,
  ];

  override firstUpdated(): void {
    this.renderRoot.querySelector('dialog')?.showModal();
  }

  override render() {
    const t = this.i18n;
    return html`<dialog aria-labelledby="new-title" @close=${this.closed}>
      <h2 id="new-title">${t.t('new.title')}</h2>
      <div class="tabs" role="group">
        <button type="button" aria-pressed=${this.mode === 'dm' ? 'true' : 'false'} @click=${() => (this.mode = 'dm')}>${t.t('new.dm')}</button>
        <button type="button" aria-pressed=${this.mode === 'group' ? 'true' : 'false'} @click=${() => (this.mode = 'group')}>${t.t('new.group')}</button>
      </div>
      ${this.mode === 'group'
        ? html`<div class="row">
              <label for="title">${t.t('new.groupTitle')}</label>
              <input id="title" maxlength="200" />
            </div>
            <h3>${t.t('new.members')}</h3>
            <ul class="people">
              ${this.picked.map((u) => {
                const name = u.display_name || u.username;
                return html`<li>
                  <span class="name">${name}</span>
                  <button type="button" aria-label=${t.t('new.removeSelected', { name })} @click=${() => (this.picked = this.picked.filter((p) => p.id !== u.id))}>
                    <span aria-hidden="true">✕</span>
                  </button>
                </li>`;
              })}
            </ul>`
        : nothing}
      <parley-user-picker
        .api=${this.api}
        .exclude=${[...(this.selfId !== null ? [this.selfId] : []), ...this.picked.map((u) => u.id)]}
        actionKey=${this.mode === 'dm' ? 'new.message' : 'new.add'}
        @parley-pick=${this.onPick}
      ></parley-user-picker>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      <div class="footer">
        <button type="button" @click=${() => this.renderRoot.querySelector('dialog')?.close()}>${t.t('new.cancel')}</button>
        ${this.mode === 'group' ? html`<button type="button" class="primary" ?disabled=${this.picked.length === 0} @click=${() => void this.createGroup()}>${t.t('new.create')}</button>` : nothing}
      </div>
    </dialog>`;
  }

  private closed = () => {
    this.dispatchEvent(new CustomEvent('parley-close', { bubbles: true, composed: true }));
  };

  private onPick = (e: CustomEvent<{ user: UserDetail }>) => {
    e.stopPropagation();
    if (this.mode === 'dm') void this.create({ chat_type: 'dm', member_ids: [e.detail.user.id] });
    else this.picked = [...this.picked, e.detail.user];
  };

  private async createGroup(): Promise<void> {
    const title = this.renderRoot.querySelector<HTMLInputElement>('#title')?.value.trim() ?? '';
    await this.create({ chat_type: 'group', member_ids: this.picked.map((u) => u.id), ...(title ? { title } : {}) });
  }

  private async create(body: { chat_type: 'dm' | 'group'; member_ids: number[]; title?: string }): Promise<void> {
    if (!this.api) return;
    this.error = '';
    try {
      const chat: ChatDetail = await this.api.createChat(body);
      this.dispatchEvent(new CustomEvent('parley-created', { detail: { chat }, bubbles: true, composed: true }));
      this.renderRoot.querySelector('dialog')?.close();
    } catch (err) {
      this.error = this.i18n.t('app.error', { detail: err instanceof Error ? err.message : String(err) });
    }
  }
}

customElements.define('parley-new-chat', ParleyNewChat);
