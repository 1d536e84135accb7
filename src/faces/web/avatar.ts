import { escapeHtml } from '../../core/index.js';

const COLORS = ['#2563eb', '#7c3aed', '#db2777', '#dc2626', '#ea580c', '#16a34a', '#0d9488', '#0891b2'];

/** Up to two initials from a name: "Ann Smith" → "AS", "bob" → "B". */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/u).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : words;
  return letters.map((w) => [...(w ?? '')][0]?.toUpperCase() ?? '').join('') || '?';
}

/** The default avatar: the initials on a colour picked from the user id. Text is escaped. */
export function avatarSvg(userId: number, name: string): string {
  const color = COLORS[userId % COLORS.length];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64" role="img" aria-label="${escapeHtml(name)}"><rect width="64" height="64" rx="32" fill="${color}"/><text x="50%" y="50%" dy=".35em" text-anchor="middle" font-family="system-ui,sans-serif" font-size="26" font-weight="600" fill="#fff">${escapeHtml(initials(name))}</text></svg>`;
}
