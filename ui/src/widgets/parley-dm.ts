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
 * `<parley-dm user-id="42">`: a direct-message box with one user, for a profile page. Opens (or
 * creates) the DM with that user for whoever is signed in to the Parley server.
 *
 * Attributes: `user-id` (required), `server` (default: where the script came from), `lang`,
 * `theme` (`light`/`dark`; default the system's). Style it with `--parley-*` properties.
 *
 * @example
 * <script src="https://chat.example.com/static/parley-widgets.js" defer></script>
 * <parley-dm user-id="42" style="--parley-accent: #7c3aed"></parley-dm>
 */
export class ParleyDm extends LitElement {
  static override properties = {
    userId: { type: Number, attribute: 'user-id' },
    server: {},
    session: { state: true },
    chat: { state: true },
    problem: { state: true },
  };

  userId: number | null = null;
  server = '';
  session: Session | null = null;
  chat: ChatDetail | null = null;
  problem: 'signed-out' | 'self' | 'error' | null = null;
  private readonly i18n = new I18nController(this);
  private readonly theme = new ThemeController(this);

  static override styles = [themeTokens, controls, widgetFrame];

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('userId') || changed.has('server')) void this.open();
  }

  private async open(): Promise<void> {
    const userId = this.userId;
    if (!userId) return;
    this.chat = null;
    this.problem = null;
    const s = await sessionFor(this.server || scriptOrigin);
    this.session = s;
    if (!s.me) return void (this.problem = 'signed-out');
    if (s.me.id === userId) return void (this.problem = 'self');
    try {
      const chat = await s.api.createChat({ chat_type: 'dm', member_ids: [userId] });
      if (userId === this.userId) this.chat = chat;
    } catch {
      this.problem = 'error';
    }
  }

  override render() {
    const t = this.i18n;
    const base = this.server || scriptOrigin;
    const partner = this.chat?.members.find((m) => m.id === this.userId);
    const name = partner ? partner.display_name || partner.username : '';
    return html`<section class="frame" aria-label=${name ? t.t('widget.dmTitle', { name }) : t.t('new.dm')}>
      <div class="bar"><parley-theme-toggle></parley-theme-toggle></div>
      ${this.problem === 'signed-out'
        ? html`<p class="note"><a href=${new URL('/', base).href}>${t.t('widget.signIn')}</a></p>`
        : this.problem === 'self'
          ? html`<p class="note muted">${t.t('widget.self')}</p>`
          : this.problem === 'error'
            ? html`<p class="note" role="alert">${t.t('app.error', { detail: '' })}</p>`
            : this.chat
              ? html`<parley-conversation .session=${this.session} .chatId=${this.chat.id} .headingLevel=${3}></parley-conversation>`
              : html`<p class="note muted" role="status">${t.t('app.loading')}</p>`}
    </section>`;
  }
}

customElements.define('parley-dm', ParleyDm);
