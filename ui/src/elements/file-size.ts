/** A file size in the locale's format with the largest fitting unit ("1.5 MB", "1,5 Mo"). */
export function formatBytes(locale: string, bytes: number): string {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;
  let value = bytes;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return new Intl.NumberFormat(locale, { style: 'unit', unit: units[i], unitDisplay: 'short', maximumFractionDigits: i === 0 ? 0 : 1 }).format(value);
}

/**
 * The size to show an image at inside a `max` box, keeping its aspect ratio, so `<img>` gets
 * `width`/`height` before it loads (no layout shift). Unknown dimensions get a square.
 */
export function fitInto(width: number | null, height: number | null, max: number): { width: number; height: number } {
  if (!width || !height) return { width: max, height: max };
  const scale = Math.min(1, max / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}
