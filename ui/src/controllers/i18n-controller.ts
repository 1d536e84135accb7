import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { type MessageKey, formatList, formatTime, localeOf, translate } from '../i18n/index.js';

/**
 * Gives an element its locale (the nearest `lang` attribute through shadow roots, else the
 * browser's) and `t()` for its catalog. Resolved when the element connects.
 */
export class I18nController implements ReactiveController {
  locale = 'en';

  constructor(private readonly host: ReactiveControllerHost & HTMLElement) {
    host.addController(this);
  }

  hostConnected(): void {
    this.locale = localeOf(this.host);
  }

  t(key: MessageKey, vars?: Record<string, string | number>): string {
    return translate(this.locale, key, vars);
  }

  list(items: readonly string[]): string {
    return formatList(this.locale, items);
  }

  time(iso: string): string {
    return formatTime(this.locale, iso);
  }
}
