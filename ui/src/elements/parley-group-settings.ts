import { LitElement, html, nothing } from 'lit';
import type { ChatApi } from '../api/chat-api.js';
import type { ChatDetail, UserDetail } from '../api/types.js';
import { I18nController } from '../controllers/i18n-controller.js';
import { controls } from '../styles/theme.js';
import { dialogStyles } from './dialog-styles.js';
import './parley-user-picker.js';

/**
 * Settings of a group, as a modal dialog: admins rename it and add or remove members; everyone
 * can leave. Fires `parley-chat-changed` after a change, `parley-close` when closed.
 */
export class ParleyGroupSettings extends LitElement {
  static override properties = {
    api: { attribute: false },
    chat: { attribute: false },
    selfId: { attribute: false },
    error: { state: true },
  };

  api: ChatApi | null = null;
  chat: ChatDetail | null = null;
  selfId: number | null = null;
  error = '';
  private readonly i18n = new I18nController(this);

  static override styles = [controls, dialogStyles];

  override firstUpdated(): void {
    this.renderRoot.querySelector('dialog')?.showModal();
  }

  override render() {
    const chat = this.chat;
    if (!chat) return nothing;
    const t = this.i18n;
    const admin = this.selfId !== null && chat.admins.includes(this.selfId);
    return html`<dialog aria-labelledby="settings-title" @close=${this.closed}>
      <h2 id="settings-title">${t.t('settings.title')}</h2>
      ${admin
        ? html`<form class="row" @submit=${this.rename}>
            <label for="name">${t.t('settings.rename')}</label>
            <input id="name" name="title" .value=${chat.title} maxlength="200" />
            <button type="submit">${t.t('settings.save')}</button>
          </form>`
        : nothing}
      <h3>${t.t('settings.members')}</h3>
      <ul class="people">
        ${chat.members.map((m) => {
          const name = m.display_name || m.username;
          return html`<li>
            <span class="name">${name}${chat.admins.includes(m.id) ? html` <span class="muted">(${t.t('settings.admin')})</span>` : nothing}</span>
            ${admin && m.id !== this.selfId
              ? html`<button type="button" class="danger" aria-label=${t.t('settings.remove', { name })} @click=${() => void this.removeMember(m.id)}>
                  <span aria-hidden="true">✕</span>
                </button>`
              : nothing}
          </li>`;
        })}
      </ul>
      ${admin
        ? html`<h3>${t.t('settings.add')}</h3>
            <parley-user-picker .api=${this.api} .exclude=${chat.members.map((m) => m.id)} label=${t.t('settings.add')} @parley-pick=${this.add}></parley-user-picker>`
        : nothing}
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      <div class="footer">
        <button type="button" class="danger" @click=${() => void this.leave()}>${t.t('settings.leave')}</button>
        <button type="button" @click=${() => this.renderRoot.querySelector('dialog')?.close()}>${t.t('settings.close')}</button>
      </div>
    </dialog>`;
  }

  private closed = () => {
    this.dispatchEvent(new CustomEvent('parley-close', { bubbles: true, composed: true }));
  };

  private changed(): void {
    this.dispatchEvent(new CustomEvent('parley-chat-changed', { detail: { chatId: this.chat?.id }, bubbles: true, composed: true }));
  }

  private async run(action: () => Promise<unknown>): Promise<void> {
    this.error = '';
    try {
      await action();
      this.changed();
    } catch (err) {
      this.error = this.i18n.t('app.error', { detail: err instanceof Error ? err.message : String(err) });
    }
  }

  private rename = (e: Event) => {
    e.preventDefault();
    const input = this.renderRoot.querySelector<HTMLInputElement>('#name');
    const title = input?.value.trim() ?? '';
    const chat = this.chat;
    if (!chat || !this.api || !title) return;
    void this.run(async () => {
      this.chat = await this.api!.rename(chat.id, title);
    });
  };

  private async removeMember(userId: number): Promise<void> {
    const chat = this.chat;
    if (!chat || !this.api) return;
    await this.run(async () => {
      await this.api!.removeMember(chat.id, userId);
      this.chat = await this.api!.chat(chat.id);
    });
  }

  private add = (e: CustomEvent<{ user: UserDetail }>) => {
    const chat = this.chat;
    if (!chat || !this.api) return;
    void this.run(async () => {
      await this.api!.addMembers(chat.id, [e.detail.user.id]);
      this.chat = await this.api!.chat(chat.id);
    });
  };

  private async leave(): Promise<void> {
    const chat = this.chat;
    if (!chat || !this.api) return;
    await this.run(async () => {
      await this.api!.leave(chat.id);
      this.renderRoot.querySelector('dialog')?.close();
      this.dispatchEvent(new CustomEvent('parley-left', { detail: { chatId: chat.id }, bubbles: true, composed: true }));
    });
  }
}

customElements.define('parley-group-settings', ParleyGroupSettings);
