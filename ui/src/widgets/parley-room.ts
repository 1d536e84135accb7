import { LitElement, html, type PropertyValues } from 'lit';
import { type Session, sessionFor } from '../api/session.js';
import type { ChatDetail } from '../api/types.js';
import { I18nController } from '../controllers/i18n-controller.js';
import { ThemeController } from '../controllers/theme-controller.js';
import '../elements/parley-conversation.js';
import '../elements/parley-theme-toggle.js';
import { controls, themeTokens } from '../styles/theme.js';
import { scriptOrigin } from './widget-base-url.js';
import { widgetFrame } from './widget-styles.js';

/**
 * `<parley-room object="product:42">`: the public chat room of any object of the host site
 * (a product, an article…), created on first use. A signed-in visitor joins with one click.
 *
 * Attributes: `object` (required), `heading` (default "Discussion"), `server`, `lang`, `theme`.
 *
 * @example
 * <script src="https://chat.example.com/static/parley-widgets.js" defer></script>
 * <parley-room object="product:42" heading="Questions about this product"></parley-room>
 */
export class ParleyRoom extends LitElement {
  static override properties = {
    object: {},
    heading: {},
    server: {},
    session: { state: true },
    chat: { state: true },
    problem: { state: true },
  };

  object = '';
  heading = '';
  server = '';
  session: Session | null = null;
  chat: ChatDetail | null = null;
  problem: 'signed-out' | 'error' | null = null;
  private readonly i18n = new I18nController(this);
  private readonly theme = new ThemeController(this);

  static override styles = [themeTokens, controls, widgetFrame];

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('object') || changed.has('server')) void this.open();
  }

  private async open(): Promise<void> {
    const object = this.object;
    if (!object) return;
    this.chat = null;
    this.problem = null;
    const s = await sessionFor(this.server || scriptOrigin);
    this.session = s;
    if (!s.me) return void (this.problem = 'signed-out');
    try {
      const chat = await s.api.room(object);
      if (object === this.object) this.chat = chat;
    } catch {
      this.problem = 'error';
    }
  }

  private join = async () => {
    if (!this.session || !this.chat) return;
    try {
      this.chat = await this.session.api.join(this.chat.id);
    } catch {
      this.problem = 'error';
    }
  };

  override render() {
    const t = this.i18n;
    const base = this.server || scriptOrigin;
    const title = this.heading || t.t('widget.roomTitle');
    return html`<section class="frame" aria-label=${title}>
      <div class="bar"><parley-theme-toggle></parley-theme-toggle></div>
      ${this.problem === 'signed-out'
        ? html`<p class="note"><a href=${new URL('/', base).href}>${t.t('widget.signIn')}</a></p>`
        : this.problem === 'error'
          ? html`<p class="note" role="alert">${t.t('app.error', { detail: '' })}</p>`
          : !this.chat
            ? html`<p class="note muted" role="status">${t.t('app.loading')}</p>`
            : this.chat.is_member
              ? html`<parley-conversation .session=${this.session} .chatId=${this.chat.id} heading=${title} .headingLevel=${3}></parley-conversation>`
              : html`<p class="note"><button type="button" class="primary join" @click=${this.join}>${t.t('widget.join')}</button></p>`}
    </section>`;
  }
}

customElements.define('parley-room', ParleyRoom);
