import { de } from './de.js';
import { type Catalog, type MessageKey, en } from './en.js';
import { fr } from './fr.js';

export type { MessageKey } from './en.js';

/** The languages the UI ships; add a catalog here to add one. */
export const catalogs: Record<string, Catalog> = { en, fr, de };
export const supportedLocales = Object.keys(catalogs);

/** The best supported locale for a list of wishes (`fr-CA` → `fr`), else English. */
export function pickLocale(wanted: readonly (string | null | undefined)[]): string {
  for (const w of wanted) {
    if (!w) continue;
    const base = w.toLowerCase().split('-')[0] ?? '';
    if (base in catalogs) return base;
  }
  return 'en';
}

/**
 * The locale for an element: the nearest `lang` attribute, looking through shadow roots up to
 * the document, else the browser's languages.
 */
export function localeOf(el: Element): string {
  let node: Node | null = el;
  while (node) {
    if (node instanceof Element && node.getAttribute('lang')) return pickLocale([node.getAttribute('lang')]);
    node = node instanceof ShadowRoot ? node.host : node.parentNode;
  }
  return pickLocale(navigator.languages ?? [navigator.language]);
}

/** A message of the locale's catalog with `{name}` placeholders filled in (as plain text). */
export function translate(locale: string, key: MessageKey, vars: Record<string, string | number> = {}): string {
  const text = (catalogs[locale] ?? en)[key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (_, k: string) => (k in vars ? String(vars[k]) : `{${k}}`));
}

/** A list of names joined the way the locale does ("A, B and C"). */
export function formatList(locale: string, items: readonly string[]): string {
  return new Intl.ListFormat(locale, { style: 'long', type: 'conjunction' }).format(items);
}

/** A message time: the clock time today, else the date and time, in the locale's format. */
export function formatTime(locale: string, iso: string, now = new Date()): string {
  const d = new Date(iso);
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay
    ? new Intl.DateTimeFormat(locale, { timeStyle: 'short' }).format(d)
    : new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/** A number in the locale's format. */
export function formatNumber(locale: string, n: number): string {
  return new Intl.NumberFormat(locale).format(n);
}
