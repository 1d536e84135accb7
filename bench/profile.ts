/**
 * Where a server's CPU time went, from the V8 CPU profiles Node writes with `--cpu-prof`
 * (`--profile` of `bench/realtime.ts` and `bench/scale-fanout.ts`): self time by function and by
 * area (Parley's own modules by directory, each dependency, Node internals, GC), as Markdown.
 * The profiles themselves stay beside it for Chrome DevTools or speedscope.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

/** Parley's files by directory (`src/realtime`), a dependency by package, the rest by kind. */
function area(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep?.[1]) return dep[1];
  const own = /\/(src\/[^/]+)\//.exec(url);
  if (own?.[1]) return own[1];
  return url.replace(/^file:\/\//, '').split('/').slice(-2).join('/');
}

function shortUrl(url: string): string {
  const dep = /node_modules\/(.*)$/.exec(url);
  if (dep?.[1]) return dep[1];
  const own = /\/(src\/.*)$/.exec(url);
  return own?.[1] ?? url.replace(/^file:\/\//, '');
}

/** Summarizes every `*.cpuprofile` in `dir`; null when there is none. */
export function summarizeProfiles(dir: string, title: string, top = 25): string | null {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return null;
  }
  if (files.length === 0) return null;
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let busyMs = 0;
  let idleMs = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const hits = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
    // Sampling interval from the profile's own span, so ms are comparable across files.
    const msPerHit = hits > 0 ? (profile.endTime - profile.startTime) / 1000 / hits : 0;
    for (const n of profile.nodes) {
      const ms = (n.hitCount ?? 0) * msPerHit;
      if (ms === 0) continue;
      const { functionName, url, lineNumber } = n.callFrame;
      if (functionName === '(idle)') {
        idleMs += ms;
        continue;
      }
      busyMs += ms;
      const name = `${functionName || '(anonymous)'} ${url ? `${shortUrl(url)}:${lineNumber + 1}` : ''}`.trim();
      byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
      const a = area(url, functionName);
      byArea.set(a, (byArea.get(a) ?? 0) + ms);
    }
  }
  const rows = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, ms]) => `| \`${k.replace(/\|/g, '\\|')}\` | ${ms.toFixed(0)} | ${((ms / busyMs) * 100).toFixed(1)}% |`);
  return [
    `# CPU profile: ${title}`,
    '',
    `${files.length} profile(s) in \`${dir.split('/').slice(-3).join('/')}\`; ${busyMs.toFixed(0)} ms busy, ${idleMs.toFixed(0)} ms idle. Self time (where the CPU was, not who called it). It includes start-up (module loading, migrations) and every thread of the process (the tsx loader thread is mostly start-up). Profiling slows the server: the bench numbers of a profiled run are not the ones to quote.`,
    '',
    '## By area',
    '',
    '| area | self ms | share of busy |',
    '|---|---:|---:|',
    ...rows(byArea, 20),
    '',
    `## Top ${top} functions`,
    '',
    '| function | self ms | share of busy |',
    '|---|---:|---:|',
    ...rows(byFunction, top),
    '',
  ].join('\n');
}
