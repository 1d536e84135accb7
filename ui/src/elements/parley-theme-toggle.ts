import { LitElement, html } from 'lit';
import { I18nController } from '../controllers/i18n-controller.js';
import { ThemeController } from '../controllers/theme-controller.js';
import { controls } from '../styles/theme.js';

/** A button switching light and dark; the choice is kept (localStorage) and shared by all Parley elements. */
export class ParleyThemeToggle extends LitElement {
  private readonly theme = new ThemeController(this);
  private readonly i18n = new I18nController(this);
  static override styles = [controls];

  override render() {
    const dark = this.theme.current === 'dark';
    return html`<button type="button" class="icon theme-toggle" aria-pressed=${dark ? 'true' : 'false'} aria-label=${this.i18n.t('theme.dark')} title=${this.i18n.t('theme.toggle')} @click=${() => this.theme.toggle()}>
      <span aria-hidden="true">${dark ? '☀' : '☾'}</span>
    </button>`;
  }
}

customElements.define('parley-theme-toggle', ParleyThemeToggle);
