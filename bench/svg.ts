/**
 * Two small SVG charts for the benchmark reports, written as text (no browser, no library):
 * a latency distribution (latency by percentile, log scales) and grouped bars. Plain SVG 1.1,
 * which GitHub renders from the Markdown (`![](realtime-latency.svg)`).
 */

const COLORS = ['#4c72b0', '#dd8452', '#55a868', '#c44e52', '#8172b3', '#937860'];
/** The same system has the same color in every chart; a reference series (the offered rate) is grey. */
const NAMED: Record<string, string> = { 'bare ws': '#4c72b0', 'Socket.IO': '#dd8452', 'Socket.IO ×2': '#dd8452', Parley: '#55a868', 'Parley ×2': '#55a868', offered: '#a0a0a0' };
const color = (name: string, i: number) => NAMED[name] ?? COLORS[i % COLORS.length] ?? '#000';
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12"';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function num(n: number): string {
  return Number.isFinite(n) ? String(Math.round(n * 10) / 10) : '0';
}

/** Short labels for axis ticks: 0.1, 1, 10, 1k, 25k, 1.2M. */
function short(n: number): string {
  if (n >= 1e6) return `${+(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(n >= 1e4 ? 0 : 1)}k`;
  return `${+n.toPrecision(2)}`;
}

export interface DistributionSeries {
  name: string;
  /** Latencies in ms, any order. */
  values: readonly number[];
}

/**
 * Latency by percentile, the HdrHistogram way: x = percentile on a scale that gives 90%, 99%,
 * 99.9% and 99.99% equal room (−log10(1 − q)), y = latency (ms, log scale), so the tail is as
 * readable as the median. A series ends at the percentile its sample count can resolve.
 */
export function distributionChart(title: string, series: readonly DistributionSeries[]): string {
  const W = 720;
  const H = 380;
  const m = { l: 56, r: 32, t: 36, b: 72 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const U = 4; // up to p99.99
  const curves = series.map((s) => {
    const sorted = [...s.values].filter((v) => Number.isFinite(v) && v > 0).sort((a, b) => a - b);
    const n = sorted.length;
    const points: [number, number][] = [];
    const maxU = n > 1 ? Math.min(U, Math.log10(n)) : 0;
    for (let u = 0; n > 0 && u <= maxU + 1e-9; u += 0.02) {
      const q = 1 - 10 ** -u;
      points.push([u, sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))] ?? 0]);
    }
    return { name: s.name, points };
  });
  const all = curves.flatMap((c) => c.points.map((p) => p[1]));
  const lo = Math.max(0.01, 10 ** Math.floor(Math.log10(Math.max(0.01, Math.min(...all, 1)))));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...all, lo * 10)));
  const x = (u: number) => m.l + (u / U) * pw;
  const y = (v: number) => m.t + ph - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT}>`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600">${esc(title)}</text>`);
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    out.push(`<line x1="${m.l}" y1="${num(y(d))}" x2="${m.l + pw}" y2="${num(y(d))}" stroke="#ddd"/>`);
    out.push(`<text x="${m.l - 6}" y="${num(y(d) + 4)}" text-anchor="end">${short(d)}</text>`);
  }
  for (const [label, q] of [['0%', 0], ['50%', 0.5], ['90%', 0.9], ['99%', 0.99], ['99.9%', 0.999], ['99.99%', 0.9999]] as const) {
    const u = -Math.log10(1 - q);
    out.push(`<line x1="${num(x(u))}" y1="${m.t}" x2="${num(x(u))}" y2="${m.t + ph}" stroke="${q === 0.5 || q === 0.99 ? '#bbb' : '#eee'}"/>`);
    out.push(`<text x="${num(x(u))}" y="${m.t + ph + 16}" text-anchor="middle">${label}</text>`);
  }
  out.push(`<text x="${m.l + pw / 2}" y="${m.t + ph + 34}" text-anchor="middle">percentile of deliveries</text>`);
  out.push(`<text transform="translate(14 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">send → deliver (ms, log scale)</text>`);
  curves.forEach((c, i) => {
    const stroke = color(c.name, i);
    const d = c.points.map(([u, v], j) => `${j === 0 ? 'M' : 'L'}${num(x(u))},${num(y(v))}`).join(' ');
    if (d) out.push(`<path d="${d}" fill="none" stroke="${stroke}" stroke-width="2"/>`);
    const lx = m.l + i * 200;
    out.push(`<rect x="${lx}" y="${H - 18}" width="14" height="4" fill="${stroke}"/>`);
    out.push(`<text x="${lx + 20}" y="${H - 12}">${esc(c.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

export interface BarGroup {
  label: string;
  bars: readonly { name: string; value: number }[];
}

/** Grouped vertical bars from 0, the value printed on each bar; series colored by position. */
export function barChart(title: string, yLabel: string, groups: readonly BarGroup[]): string {
  const names = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.name)))];
  const W = Math.max(480, 120 + groups.length * (names.length * 56 + 40));
  const H = 360;
  const m = { l: 64, r: 16, t: 36, b: 64 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const max = Math.max(...groups.flatMap((g) => g.bars.map((b) => (Number.isFinite(b.value) ? b.value : 0))), 1);
  const step = 10 ** Math.floor(Math.log10(max));
  // Headroom for the value printed above the tallest bar.
  const top = Math.ceil((max * 1.08) / step) * step;
  const y = (v: number) => m.t + ph - (Math.max(0, v) / top) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT}>`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600">${esc(title)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const v = (top * i) / 5;
    out.push(`<line x1="${m.l}" y1="${num(y(v))}" x2="${m.l + pw}" y2="${num(y(v))}" stroke="#eee"/>`);
    out.push(`<text x="${m.l - 6}" y="${num(y(v) + 4)}" text-anchor="end">${short(v)}</text>`);
  }
  out.push(`<text transform="translate(14 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  const gw = pw / Math.max(1, groups.length);
  const bw = Math.min(48, (gw - 24) / Math.max(1, names.length));
  groups.forEach((g, gi) => {
    const gx = m.l + gi * gw + (gw - bw * names.length) / 2;
    g.bars.forEach((b) => {
      const i = names.indexOf(b.name);
      const bx = gx + i * bw;
      const v = Number.isFinite(b.value) ? b.value : 0;
      out.push(`<rect x="${num(bx + 2)}" y="${num(y(v))}" width="${num(bw - 4)}" height="${num(m.t + ph - y(v))}" fill="${color(b.name, i)}"/>`);
      out.push(`<text x="${num(bx + bw / 2)}" y="${num(y(v) - 4)}" text-anchor="middle" font-size="10">${Number.isFinite(b.value) ? short(b.value) : 'n/a'}</text>`);
    });
    out.push(`<text x="${num(m.l + gi * gw + gw / 2)}" y="${m.t + ph + 16}" text-anchor="middle">${esc(g.label)}</text>`);
  });
  out.push(`<line x1="${m.l}" y1="${m.t + ph}" x2="${m.l + pw}" y2="${m.t + ph}" stroke="#888"/>`);
  names.forEach((name, i) => {
    const lx = m.l + i * 180;
    out.push(`<rect x="${lx}" y="${H - 22}" width="12" height="12" fill="${color(name, i)}"/>`);
    out.push(`<text x="${lx + 18}" y="${H - 12}">${esc(name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
