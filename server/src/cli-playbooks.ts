/**
 * `summit playbook export|import`: playbook definitions as YAML or JSON files, so teams keep them in git.
 *
 * These commands talk to a running server over HTTP with an API token, unlike the offline operator commands in
 * cli.ts: on the embedded store the server owns the data dir, and going through the API means the definition is
 * validated, versioned, authorised and audited exactly as a save from the console would be.
 *
 * An export is exactly a valid body for POST /api/v1/playbooks (name, description, tags, parameters, steps; no ids,
 * no timestamps), with keys in a fixed order, whatever order the store returns them in (jsonb reorders keys), so
 * exporting the same definition twice gives the same bytes and a change shows as a small diff.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import YAML from 'yaml';

export type CliIo = {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
};
export type ConnectionOptions = { url?: string; token?: string; tokenFile?: string };
export type FileFormat = 'yaml' | 'json';
export type ExportOptions = ConnectionOptions & { format?: FileFormat; out?: string };
export type ImportOptions = ConnectionOptions & { update?: boolean };

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** A failure whose message is meant for the person at the terminal (exit 1). */
class CommandFailure extends Error {}

type Definition = Record<string, unknown>;
type Problem = { title?: string; detail?: string; errors?: Array<{ path: string; message: string }> };
type Connection = { baseUrl: string; token: string };
type Reply = { status: number; body: unknown };
type PlaybookDetail = { id: string; name: string; version: number; definition: Definition };

// ---------------------------------------------------------------------------------------------------------------
// File format: a stable key order, serialising, parsing with positions

/** Keys that lead, in this order, per kind of object; any other key follows in alphabetical order. */
const LEADING_KEYS = {
  definition: ['name', 'description', 'tags', 'parameters', 'steps'],
  parameter: ['name', 'type', 'items', 'values', 'default', 'required', 'min', 'max', 'pattern', 'description'],
  step: ['id', 'type', 'input', 'output'],
  rule: ['id', 'when', 'severity', 'note'],
  section: ['title', 'from', 'columns', 'orderBy', 'limit'],
  predicate: ['path', 'op', 'value'],
  column: ['key', 'label'],
  orderBy: ['field', 'direction'],
  other: [] as string[],
};
type Kind = keyof typeof LEADING_KEYS;

/** What kind of object sits under `key` of an object of kind `parent` (arrays pass their parent's key through). */
function childKind(parent: Kind, key: string): Kind {
  if (parent === 'definition') return key === 'parameters' ? 'parameter' : key === 'steps' ? 'step' : 'other';
  if (parent === 'step') return key === 'rules' ? 'rule' : key === 'sections' ? 'section' : key === 'where' ? 'predicate' : 'other';
  if (parent === 'section') return key === 'columns' ? 'column' : key === 'orderBy' ? 'orderBy' : 'other';
  return parent === 'other' && key === 'where' ? 'predicate' : 'other';
}

function ordered(value: unknown, kind: Kind): unknown {
  if (Array.isArray(value)) return value.map((item) => ordered(item, kind));
  if (value === null || typeof value !== 'object') return value;
  const source = value as Record<string, unknown>;
  const leading = LEADING_KEYS[kind].filter((key) => key in source);
  const rest = Object.keys(source).filter((key) => !leading.includes(key)).sort();
  return Object.fromEntries([...leading, ...rest].map((key) => [key, ordered(source[key], childKind(kind, key))]));
}

/**
 * The definition as a file holds it: the five top-level fields always present (so a file states the whole
 * definition and `import --update` replaces every field), keys in a stable order.
 */
export function canonicalDefinition(definition: Definition): Definition {
  const full = { description: '', tags: [], parameters: [], ...definition };
  return ordered(full, 'definition') as Definition;
}

export function serializeDefinition(definition: Definition, format: FileFormat): string {
  const canonical = canonicalDefinition(definition);
  // lineWidth 0: no folding of long descriptions, so editing one word changes one line.
  return format === 'json' ? `${JSON.stringify(canonical, null, 2)}\n` : YAML.stringify(canonical, { lineWidth: 0, minContentWidth: 0 });
}

export function formatOfPath(file: string): FileFormat | undefined {
  const ext = path.extname(file).toLowerCase();
  return ext === '.json' ? 'json' : ext === '.yaml' || ext === '.yml' ? 'yaml' : undefined;
}

function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: lines.at(-1)!.length + 1 };
}

/**
 * Offset of the first character that breaks JSON's grammar, or -1 if there is none. JSON.parse on Node 20 names no
 * position for some errors ("Unexpected token"), and a person fixing a file needs the line and column.
 */
function jsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const skipSpace = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const take = (ch: string) => (text[i] === ch ? i++ : fail());
  const string = () => {
    take('"');
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) fail();
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) i += 4;
        else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
      }
      i++;
    }
    take('"');
  };
  const value = (): void => {
    skipSpace();
    const open = text[i];
    if (open === '{' || open === '[') {
      const close = open === '{' ? '}' : ']';
      i++;
      skipSpace();
      if (text[i] === close) return void i++;
      for (;;) {
        if (open === '{') {
          skipSpace();
          string();
          skipSpace();
          take(':');
        }
        value();
        skipSpace();
        if (text[i] !== ',') return void take(close);
        i++;
      }
    }
    if (open === '"') return string();
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 1000));
    i += literal ? literal[0].length : fail();
  };
  try {
    value();
    skipSpace();
    return i < text.length ? i : -1;
  } catch (at) {
    return typeof at === 'number' ? at : text.length; // a RangeError: nested deeper than the stack allows
  }
}

/** Parses a definition file: JSON for .json, YAML otherwise (YAML also reads JSON). Errors name line and column. */
export function parseDefinition(text: string, file: string): Definition {
  let value: unknown;
  if (formatOfPath(file) === 'json') {
    try {
      value = JSON.parse(text);
    } catch (error) {
      const offset = jsonErrorOffset(text);
      const at = lineColumnAt(text, offset < 0 ? Number(/at position (\d+)/.exec((error as Error).message)?.[1] ?? text.length) : offset);
      const reason = (error as Error).message
        .replace(/\s*(?:in JSON )?at position \d+.*$/s, '')
        .replace(/, (?:\.\.\.)?".*" is not valid JSON$/s, '')
        .replace(/^Unexpected end of JSON input$/, 'the file ends too early');
      throw new CommandFailure(`${file}:${at.line}:${at.column}: not valid JSON: ${reason}`);
    }
  } else {
    const doc = YAML.parseDocument(text, { prettyErrors: false });
    const problem = doc.errors[0];
    if (problem) {
      const at = problem.linePos?.[0] ?? lineColumnAt(text, problem.pos[0]);
      const line = 'line' in at ? at.line : 1;
      const column = 'col' in at ? at.col : (at as { column: number }).column;
      throw new CommandFailure(`${file}:${line}:${column}: not valid YAML: ${problem.message.split('\n')[0]}`);
    }
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      throw new CommandFailure(`${file}: not valid YAML: ${(error as Error).message.split('\n')[0]}`);
    }
    try {
      JSON.stringify(value);
    } catch {
      throw new CommandFailure(`${file}: an alias (*name) refers to the node that contains it; a playbook cannot hold a cycle`);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const got = value === null || value === undefined ? 'nothing' : Array.isArray(value) ? 'a list' : `a ${typeof value}`;
    throw new CommandFailure(`${file}: expected a playbook definition (a mapping with name, description, tags, parameters and steps), found ${got}`);
  }
  return value as Definition;
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP

async function connectionOf(io: CliIo, options: ConnectionOptions): Promise<Connection> {
  const raw = options.url ?? io.env.SUMMIT_URL ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CommandFailure(`--url: "${raw}" is not a URL (for example ${DEFAULT_URL})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CommandFailure(`--url: "${raw}" must start with http:// or https://`);
  let token = options.token ?? (options.tokenFile === undefined ? io.env.SUMMIT_TOKEN : undefined);
  if (options.tokenFile !== undefined) {
    try {
      token = (await readFile(options.tokenFile, 'utf8')).trim();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new CommandFailure(`cannot read the token file ${options.tokenFile}: ${code === 'ENOENT' ? 'no such file' : code ?? (error as Error).message}`);
    }
    if (!token) throw new CommandFailure(`the token file ${options.tokenFile} is empty`);
  }
  if (!token) throw new CommandFailure('no API token: pass --token-file <file> (e.g. ./data/demo-admin.token), or set SUMMIT_TOKEN');
  return { baseUrl: url.href.replace(/\/+$/, ''), token };
}

async function call(conn: Connection, method: string, route: string, body?: unknown): Promise<Reply> {
  let res: Response;
  try {
    res = await fetch(`${conn.baseUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${conn.token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new CommandFailure(`cannot reach Summit at ${conn.baseUrl}: ${cause?.code ?? cause?.message ?? (error as Error).message}. Is \`summit serve\` running there? Set --url or SUMMIT_URL.`);
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text for the message below
  }
  return { status: res.status, body: parsed };
}

/** A failed reply as lines for the terminal: the problem's detail, then each field problem on its own line. */
function failureOf(reply: Reply, what: string): CommandFailure {
  const problem = (reply.body && typeof reply.body === 'object' ? reply.body : {}) as Problem;
  const detail = problem.detail ?? problem.title ?? (typeof reply.body === 'string' && reply.body ? reply.body.slice(0, 300) : 'no details');
  const lines = [`${what}: the server answered ${reply.status}: ${detail}`];
  if (reply.status === 401) lines.push('check the token (--token-file, --token or SUMMIT_TOKEN)');
  for (const e of problem.errors ?? []) lines.push(`  ${e.path.replace(/^body\.?/, '') || '(definition)'}: ${e.message}`);
  return new CommandFailure(lines.join('\n'));
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function getPlaybook(conn: Connection, id: string): Promise<PlaybookDetail | null> {
  const reply = await call(conn, 'GET', `/api/v1/playbooks/${encodeURIComponent(id)}`);
  if (reply.status === 404) return null;
  if (reply.status !== 200) throw failureOf(reply, `reading playbook ${id}`);
  return reply.body as PlaybookDetail;
}

/** The playbook with this name (names are unique per tenant, ignoring case) among those the caller may view. */
async function findByName(conn: Connection, name: string): Promise<PlaybookDetail | null> {
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ q: name.slice(0, 200), limit: '200', ...(cursor ? { cursor } : {}) });
    const reply = await call(conn, 'GET', `/api/v1/playbooks?${query}`);
    if (reply.status !== 200) throw failureOf(reply, 'listing playbooks');
    const page = reply.body as { items: Array<{ id: string; name: string }>; nextCursor: string | null };
    const match = page.items.find((p) => p.name.toLowerCase() === name.trim().toLowerCase());
    if (match) return getPlaybook(conn, match.id);
    cursor = page.nextCursor;
  } while (cursor);
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Commands

/** Runs a command body; a CommandFailure becomes `summit: <message>` on stderr and exit code 1. */
async function guarded(io: CliIo, body: () => Promise<void>): Promise<number> {
  try {
    await body();
    return 0;
  } catch (error) {
    if (!(error instanceof CommandFailure)) throw error;
    io.err(`summit: ${error.message}\n`);
    return 1;
  }
}

export function exportPlaybook(io: CliIo, ref: string, options: ExportOptions): Promise<number> {
  return guarded(io, async () => {
    const conn = await connectionOf(io, options);
    const found = UUID_RE.test(ref) ? await getPlaybook(conn, ref) : await findByName(conn, ref);
    if (!found) throw new CommandFailure(`no playbook ${UUID_RE.test(ref) ? 'with id' : 'named'} "${ref}" that you may view`);
    const format = options.format ?? (options.out ? formatOfPath(options.out) : undefined) ?? 'yaml';
    const content = serializeDefinition(found.definition, format);
    if (!options.out) return io.out(content);
    try {
      await writeFile(options.out, content);
    } catch (error) {
      throw new CommandFailure(`cannot write ${options.out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    io.out(`exported playbook "${found.name}" (version ${found.version}) to ${options.out} as ${format.toUpperCase()}\n`);
  });
}

export function importPlaybook(io: CliIo, file: string, options: ImportOptions): Promise<number> {
  return guarded(io, async () => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new CommandFailure(code === 'ENOENT' ? `file not found: ${file}` : code === 'EISDIR' ? `${file} is a directory, not a playbook file` : `cannot read ${file}: ${code ?? (error as Error).message}`);
    }
    const definition = parseDefinition(text, file);
    const conn = await connectionOf(io, options);
    if (!options.update) {
      const reply = await call(conn, 'POST', '/api/v1/playbooks', definition);
      if (reply.status === 409) {
        throw new CommandFailure(`a playbook named "${String(definition.name)}" already exists: run again with --update to save ${file} as its next version`);
      }
      if (reply.status !== 201) throw failureOf(reply, `${file} was not imported`);
      const created = reply.body as PlaybookDetail;
      return io.out(`created playbook "${created.name}" (id ${created.id}, version ${created.version})\n`);
    }
    const name = typeof definition.name === 'string' ? definition.name.trim() : '';
    if (!name) throw new CommandFailure(`${file}: the definition has no name; --update finds the playbook to update by its name`);
    const current = await findByName(conn, name);
    if (!current) throw new CommandFailure(`no playbook named "${name}" that you may view: run without --update to create it`);
    // PATCH keeps the fields a body leaves out; the file is the whole definition, so absent fields mean "none".
    const body = canonicalDefinition(definition);
    if (JSON.stringify(body) === JSON.stringify(canonicalDefinition(current.definition))) {
      return io.out(`playbook "${current.name}" already has this definition (version ${current.version}); nothing saved\n`);
    }
    const reply = await call(conn, 'PATCH', `/api/v1/playbooks/${current.id}`, body);
    if (reply.status !== 200) throw failureOf(reply, `${file} was not saved`);
    const updated = reply.body as PlaybookDetail;
    io.out(`updated playbook "${updated.name}" (id ${updated.id}): version ${updated.version}\n`);
  });
}

function withConnectionOptions(command: Command): Command {
  return command
    .option('--url <url>', `Summit's address (SUMMIT_URL; default ${DEFAULT_URL})`)
    .addOption(new Option('--token <token>', 'API token (visible to other users in the process list: prefer --token-file or SUMMIT_TOKEN)').conflicts('tokenFile'))
    .option('--token-file <file>', 'file holding the API token, e.g. ./data/demo-admin.token (else SUMMIT_TOKEN)');
}

/**
 * `summit playbook …`. Usage errors (a missing argument, an unknown option or format) exit 2, failures 1: commander
 * exits 1 for both by default, so this group throws its CommanderErrors for runCli to map.
 */
export function registerPlaybookCommands(program: Command, io: CliIo) {
  const group = program.command('playbook').description('export and import playbook definitions (talks to a running server)').exitOverride();
  withConnectionOptions(
    group
      .command('export <id-or-name>')
      .description('write a playbook\'s current definition as YAML or JSON (a valid body for POST /api/v1/playbooks)')
      .addOption(new Option('--format <format>', 'file format; default from the --out extension, else yaml').choices(['yaml', 'json']))
      .option('--out <file>', 'write to this file instead of stdout'),
  ).action(async (ref: string, options: ExportOptions) => {
    process.exitCode = await exportPlaybook(io, ref, options);
  });
  withConnectionOptions(
    group
      .command('import <file>')
      .description('create a playbook from a YAML or JSON file (.json is read as JSON, anything else as YAML)')
      .option('--update', 'save the file as a new version of the existing playbook with the same name'),
  ).action(async (file: string, options: ImportOptions) => {
    process.exitCode = await importPlaybook(io, file, options);
  });
}
