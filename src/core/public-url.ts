import { type CoreSettings, defaultCoreSettings } from './settings.js';

/**
 * The `publicUrl` setting: where clients reach this Parley (`https://chat.example.com`, or
 * with a path prefix a proxy strips, `https://example.com/chat`). With it, every link Parley
 * hands out is absolute, so widgets embedded on another origin and third-party API clients do
 * not resolve them against the wrong host.
 */

/**
 * Checks and normalizes a `publicUrl`: http(s) only, no credentials, query or fragment; the
 * trailing slash is dropped, so paths append as `${publicUrl}/path`. Returns the problem as
 * text when it is not usable.
 */
export function normalizePublicUrl(raw: string): { url: string } | { problem: string } {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return { problem: 'must be an absolute http(s) URL, e.g. "https://chat.example.com"' };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { problem: 'must be an http(s) URL' };
  // `raw.includes` also catches an empty `?` or `#`, which URL drops silently.
  if (u.search !== '' || u.hash !== '' || /[?#]/.test(raw)) return { problem: 'must not have a query or fragment' };
  if (u.username !== '' || u.password !== '') return { problem: 'must not contain credentials' };
  return { url: `${u.origin}${u.pathname.replace(/\/+$/, '')}` };
}

/**
 * A root-relative URL (`/avatars/1.svg`) made absolute on `publicUrl`; anything else
 * (absolute or protocol-relative URLs, and every URL when there is no `publicUrl`) as given.
 */
export function onPublicUrl(publicUrl: string | null | undefined, url: string): string {
  if (!publicUrl || !url.startsWith('/') || url.startsWith('//')) return url;
  return `${publicUrl}${url}`;
}

/**
 * The core settings with avatar URLs made absolute on `publicUrl`: the default
 * `/avatars/<id>.svg`, root-relative avatars of users, and what an `avatarUrl` hook returns
 * when it is root-relative. Unchanged without a `publicUrl`.
 */
export function withPublicUrl(settings: Partial<CoreSettings>, publicUrl: string | null): Partial<CoreSettings> {
  if (!publicUrl) return settings;
  const avatarUrl = settings.avatarUrl ?? defaultCoreSettings.avatarUrl;
  return { ...settings, avatarUrl: (user) => onPublicUrl(publicUrl, avatarUrl(user)) };
}
