import type { ReactiveController, ReactiveControllerHost } from 'lit';

const KEY = 'parley-theme';
const EVENT = 'parley-theme-change';

export type ThemeChoice = 'light' | 'dark';

/**
 * The light/dark choice: the system's (`prefers-color-scheme`) until the user toggles, then the
 * user's, kept in localStorage and shared by every Parley element on the page. The host gets a
 * `theme` attribute only when the user has chosen.
 */
export class ThemeController implements ReactiveController {
  private readonly media = window.matchMedia('(prefers-color-scheme: dark)');
  private readonly onChange = () => this.apply();

  constructor(private readonly host: ReactiveControllerHost & HTMLElement) {
    host.addController(this);
  }

  hostConnected(): void {
    window.addEventListener(EVENT, this.onChange);
    this.media.addEventListener('change', this.onChange);
    this.apply();
  }

  hostDisconnected(): void {
    window.removeEventListener(EVENT, this.onChange);
    this.media.removeEventListener('change', this.onChange);
  }

  /** The theme in effect. */
  get current(): ThemeChoice {
    return stored() ?? (this.media.matches ? 'dark' : 'light');
  }

  toggle(): void {
    const next: ThemeChoice = this.current === 'dark' ? 'light' : 'dark';
    try {
      localStorage.setItem(KEY, next);
    } catch {
      // Storage may be off (private mode, a sandboxed frame): the choice then lasts this page.
      memory = next;
    }
    window.dispatchEvent(new Event(EVENT));
  }

  private apply(): void {
    const chosen = stored();
    // A theme set by the host page's author wins over nothing, but the user's choice wins over both.
    if (chosen) this.host.setAttribute('theme', chosen);
    this.host.requestUpdate();
  }
}

let memory: ThemeChoice | null = null;

function stored(): ThemeChoice | null {
  try {
    const v = localStorage.getItem(KEY);
    if (v === 'light' || v === 'dark') return v;
  } catch {
    // see toggle()
  }
  return memory;
}
