/**
 * The built-in warninglists: known-benign values shipped as data in server/warninglists/*.json (special-purpose
 * address ranges, public resolvers, widely used benign domains). Tenants enable them by name; an enabled list
 * suppresses the indicators whose observable value it contains. Loaded and validated once at startup: a broken
 * data file stops the server rather than silently suppressing nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { serverRoot } from '../../platform/paths.js';
import { formatCidr, normaliseDomain, parseCidr } from './value-match.js';

export const warninglistsDir = path.join(serverRoot, 'warninglists');

export type Warninglist = { name: string; description: string; reference: string; kind: 'cidr' | 'domain'; values: string[] };

const fileSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  description: z.string().min(1),
  reference: z.string().min(1),
  kind: z.enum(['cidr', 'domain']),
  values: z.array(z.string()).min(1),
});

/** Reads and checks every list in dir; values come back canonical (CIDRs with their prefix, domains lower-case). */
export function loadWarninglists(dir = warninglistsDir): Warninglist[] {
  const lists: Warninglist[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const parsed = fileSchema.safeParse(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
    if (!parsed.success) throw new Error(`warninglist ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const list = parsed.data;
    if (`${list.name}.json` !== file) throw new Error(`warninglist ${file}: its name must be ${file.replace(/\.json$/, '')}`);
    const values = list.values.map((value) => {
      const canonical = list.kind === 'cidr' ? (() => { const c = parseCidr(value); return c && formatCidr(c); })() : normaliseDomain(value);
      if (!canonical) throw new Error(`warninglist ${file}: "${value}" is not a ${list.kind === 'cidr' ? 'CIDR block' : 'domain'}`);
      return canonical;
    });
    lists.push({ ...list, values: [...new Set(values)] });
  }
  return lists;
}
