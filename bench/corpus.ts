/**
 * A deterministic chat corpus for `bench/store.ts`: messages of 3–20 words drawn from a fixed
 * vocabulary with a Zipf distribution (a few words in most messages, most words rare), the
 * same for every store given the same seed.
 */

/** mulberry32: small, fast, good enough for test data. Returns floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The most frequent words, roughly in order: real chat words head the distribution. */
const COMMON = `the to i you a and it is that of in for on we this be have can do not my
with just so but what are at was if me will get your all like ok no yes its about now
out up one know think there good time how when need go see thanks they some he she new
today then would should did from work meeting tomorrow here more want sure call back let
also could morning week team lunch going great still make sounds project update release
deploy fix bug review please check send email later yesterday done doc plan test build
server client issue ticket branch merge code design data report budget deadline friday
monday coffee office home remote standup sprint demo customer invoice order launch
feedback question answer idea draft slides numbers chart metrics dashboard error crash
login password account user feature request priority urgent soon maybe weekend holiday
trip flight hotel dinner party birthday happy nice cool awesome sorry problem help
support thread channel message reply note reminder schedule calendar agenda notes
minutes summary status blocked waiting started finished approved merged shipped
rollback hotfix staging production database cache queue worker cluster backup restore
migration schema index query latency throughput benchmark profile memory disk network`
  .split(/\s+/)
  .filter(Boolean);

/**
 * `size` distinct lowercase words: the common ones first, then pronounceable made-up ones
 * (`kavero`, `tunsil`, …) in random order, so a word's rank says nothing about its spelling.
 */
export function vocabulary(size: number, seed = 7): string[] {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const onsets = ['b', 'c', 'd', 'f', 'g', 'h', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'w', 'z', 'br', 'st', 'tr', 'pl', 'gr', 'ch', 'sh'];
  const vowels = ['a', 'e', 'i', 'o', 'u', 'ai', 'ou'];
  const codas = ['', '', '', 'n', 'r', 's', 'l', 't', 'm'];
  const words = [...new Set(COMMON)];
  const seen = new Set(words);
  for (let guard = 0; words.length < size && guard < size * 50; guard++) {
    const syllables = 2 + Math.floor(random() * 2);
    let w = '';
    for (let i = 0; i < syllables; i++) w += pick(onsets) + pick(vowels) + (i === syllables - 1 ? pick(codas) : '');
    if (!seen.has(w)) {
      seen.add(w);
      words.push(w);
    }
  }
  return words.slice(0, size);
}

/** Samples word ranks (0-based) with probability ∝ 1/(rank+1)^s. */
export class Zipf {
  private readonly cdf: Float64Array;

  constructor(n: number, s = 1) {
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let r = 0; r < n; r++) {
      sum += 1 / (r + 1) ** s;
      this.cdf[r] = sum;
    }
    for (let r = 0; r < n; r++) this.cdf[r] = (this.cdf[r] as number) / sum;
  }

  sample(u: number): number {
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * Generates messages in a fixed order. `documentFrequency[rank]` counts the messages holding
 * that word so far, so the search bench can say how many messages a word query matches.
 */
export class Corpus {
  readonly words: string[];
  readonly documentFrequency: Uint32Array;
  private readonly zipf: Zipf;
  private readonly random: () => number;
  private readonly seenIn: Int32Array;
  private index = 0;

  constructor(vocabularySize = 20_000, seed = 42) {
    this.words = vocabulary(vocabularySize);
    this.zipf = new Zipf(this.words.length, 1);
    this.random = rng(seed);
    this.documentFrequency = new Uint32Array(this.words.length);
    this.seenIn = new Int32Array(this.words.length).fill(-1);
  }

  /** The next message: 3–20 words, sometimes a capital, a comma or a question mark. */
  next(): string {
    const n = 3 + Math.floor(this.random() * this.random() * 18);
    const parts: string[] = [];
    const id = this.index++;
    for (let i = 0; i < n; i++) {
      const rank = this.zipf.sample(this.random());
      if (this.seenIn[rank] !== id) {
        this.seenIn[rank] = id;
        this.documentFrequency[rank] = (this.documentFrequency[rank] ?? 0) + 1;
      }
      let w = this.words[rank] as string;
      if (i === 0 && this.random() < 0.3) w = w[0]?.toUpperCase() + w.slice(1);
      if (i < n - 1 && this.random() < 0.05) w += ',';
      parts.push(w);
    }
    const end = this.random();
    return parts.join(' ') + (end < 0.1 ? '?' : end < 0.15 ? '!' : '');
  }
}
