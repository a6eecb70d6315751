/**
 * Which methods each registered path answers, so a request for a known path with another method gets 405 and an
 * `Allow` header (RFC 9110 §15.5.6) instead of a 404 that suggests the path does not exist.
 */
type Pattern = { segments: string[]; methods: Set<string> };

function segmentsOf(path: string): string[] {
  return path.replace(/\/+$/, '').split('/').slice(1);
}

function matches(pattern: string[], actual: string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const part = pattern[i]!;
    if (part === '*') return true;
    if (i >= actual.length) return false;
    if (part.startsWith(':')) {
      if (actual[i] === '') return false;
      continue;
    }
    if (part !== actual[i]) return false;
  }
  return pattern.length === actual.length;
}

export function createRouteMethods() {
  const patterns = new Map<string, Pattern>();
  return {
    add(url: string, method: string | string[]) {
      const key = url.replace(/\/+$/, '') || '/';
      const pattern = patterns.get(key) ?? { segments: segmentsOf(key), methods: new Set<string>() };
      for (const m of Array.isArray(method) ? method : [method]) pattern.methods.add(m.toUpperCase());
      patterns.set(key, pattern);
    },
    /** The methods some route answers for this concrete path (query string ignored), sorted; empty when none. */
    allowed(url: string): string[] {
      const actual = segmentsOf(url.split('?')[0]!);
      const methods = new Set<string>();
      for (const pattern of patterns.values()) if (matches(pattern.segments, actual)) for (const m of pattern.methods) methods.add(m);
      return [...methods].sort();
    },
  };
}
