/**
 * The seeded randomness behind the demo generator: one mulberry32 stream that every random choice (STIX ids included)
 * is drawn from, and the stateless hashes that keep name pools and per-object attributes stable across sources.
 */

/** mulberry32: tiny, fast and good enough for test data; the whole generation draws from one instance. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = Math.trunc(seed) >>> 0;
  }
  uint32(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  }
  float(): number {
    return this.uint32() / 4_294_967_296;
  }
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** An index in [0, n) that favours the front: the first 1% of a pool gets about a fifth of the picks. */
  skewed(n: number): number {
    const u = this.float();
    return Math.floor(n * u * u * u);
  }
  weighted<K>(weights: ReadonlyArray<readonly [K, number]>): K {
    let total = 0;
    for (const [, w] of weights) total += w;
    let r = this.float() * total;
    for (const [key, w] of weights) {
      r -= w;
      if (r < 0) return key;
    }
    return weights[weights.length - 1]![0];
  }
  hex(length: number): string {
    let out = '';
    while (out.length < length) out += this.uint32().toString(16).padStart(8, '0');
    return out.slice(0, length);
  }
  /**
   * A STIX id, `type--` and an RFC 4122 version 4 layout filled from the seeded stream. Built from char codes so
   * the result is one flat string: hundreds of thousands of ids built by concatenation would each keep a rope.
   */
  stixId(type: string): string {
    const out: number[] = [];
    for (let i = 0; i < type.length; i++) out.push(type.charCodeAt(i));
    out.push(45, 45);
    const at = out.length;
    for (let word = 0; word < 4; word++) {
      const x = this.uint32();
      for (let shift = 28; shift >= 0; shift -= 4) {
        const n = out.length - at;
        if (n === 8 || n === 13 || n === 18 || n === 23) out.push(45);
        out.push(HEX_CODES[(x >>> shift) & 15]!);
      }
    }
    out[at + 14] = 52; // version 4
    out[at + 19] = HEX_CODES[8 + ((this.uint32() >>> 30) & 3)]!; // variant 10xx
    return String.fromCharCode(...out);
  }
}

const HEX_CODES = [...'0123456789abcdef'].map((ch) => ch.charCodeAt(0));

/** A stateless hash, so attributes tied to a canonical index (an actor's type) agree across sources. */
export function hashInt(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}
function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
/** Maps 0..total-1 onto itself in a seed-dependent order, so name pools differ per seed but never repeat. */
export function permute(i: number, total: number, salt: number): number {
  let stride = 7919;
  while (gcd(stride, total) !== 1) stride += 2;
  return ((i % total) * stride + (salt % total)) % total;
}
