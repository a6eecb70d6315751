/**
 * A ServiceNow Table API test server: a real HTTP server on loopback that speaks the contract in
 * /work/shared/reference/servicenow-table-api.md closely enough that a client proven against it behaves against a
 * real instance — v1 404-on-empty vs v2 200-empty, the encoded-query subset, paging headers, reference and display
 * value rendering, the documented error body, Basic and OAuth auth with expiring tokens, a per-window rate limit
 * answered with 429 + Retry-After, and injectable faults. Every request lands in `log` so tests can prove what a
 * client actually sent. Time comes from an injectable clock, so rate windows and token expiry move with the test.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../../../platform/clock.js';
import { compareByOrder, matchesQuery, parseEncodedQuery } from './encoded-query.js';
import { loadFixtures, type Row, type Tables } from './fixtures.js';
import { formatServiceNowTime } from './incident-record.js';

export type TestUser = { username: string; password: string; readOnly?: boolean; deniedTables?: string[] };
export type OAuthClient = { clientId: string; clientSecret: string };
export type RequestLogEntry = { time: Date; method: string; path: string; query: Record<string, string>; status: number };

export type Fault =
  /** The next `count` requests answer `status` (5xx by default 503) with the documented error body. */
  | { kind: 'error'; count: number; status?: number }
  /** The next `count` requests answer 429 with `Retry-After`, whatever the configured limit says. */
  | { kind: 'rate_limit'; count: number; retryAfterSeconds: number }
  /** The next `count` requests are answered only after `delayMs` of real time. */
  | { kind: 'slow'; count: number; delayMs: number }
  /**
   * The next `count` requests have their connection destroyed without an answer (a network error); with
   * `afterApply` the request is carried out first, so a write happens but its answer is lost.
   */
  | { kind: 'drop'; count: number; afterApply?: boolean }
  /** After `afterListRequests` more list reads have been answered, the record changes (bumping its version). */
  | { kind: 'mutate'; afterListRequests: number; sysId: string; changes?: Row; table?: string }
  /** ACL: these rows count toward sysparm_limit and X-Total-Count but are removed from answers. */
  | { kind: 'hide'; sysIds: string[] };

export type ServiceNowTestServerOptions = {
  fixtures?: Tables;
  users?: TestUser[];
  oauthClients?: OAuthClient[];
  /** Lifetime of issued access tokens (ServiceNow's default is 1799 s). */
  tokenTtlSeconds?: number;
  /** At most `limit` requests per rolling `windowMs` (default one hour, ServiceNow's unit); over it → 429. */
  rateLimit?: { limit: number; windowMs?: number };
  clock?: Clock;
};

export type ServiceNowTestServer = {
  url: string;
  log: RequestLogEntry[];
  /** The live rows of each table; tests may read and edit them. */
  tables: Tables;
  /** The live incident rows (tables.incident). */
  records: Row[];
  setFault(fault: Fault): void;
  clearFaults(): void;
  /** Changes a record as an update in ServiceNow would: new sys_updated_on (now) and sys_mod_count + 1. */
  mutate(sysId: string, changes?: Row, table?: string): Row;
  /** Invalidates every issued access token (as an admin revoking them would); refresh tokens stay valid. */
  revokeTokens(): void;
  close(): Promise<void>;
};

/** Reference fields and the table each points at (for links and display values). */
export const REFERENCE_TABLES: Record<string, string> = {
  caller_id: 'sys_user',
  assigned_to: 'sys_user',
  opened_by: 'sys_user',
  assignment_group: 'sys_user_group',
  cmdb_ci: 'cmdb_ci',
};
const CHOICE_FIELDS = new Set(['state', 'priority', 'impact', 'urgency']);
const DEFAULT_LIMIT = 10_000;

type ErrorAnswer = { status: number; message: string; detail: string | null; headers?: Record<string, string> };

/** `{link, value}` references are stored as their sys_id (rendering re-adds links); any other shape is kept raw. */
function normaliseStored(row: Row): Row {
  const out: Row = { ...row };
  for (const field of Object.keys(REFERENCE_TABLES)) {
    const value = out[field];
    if (value && typeof value === 'object' && Object.keys(value).sort().join() === 'link,value' && typeof (value as Row).value === 'string') {
      out[field] = (value as Row).value;
    }
  }
  return out;
}

function storedValue(row: Row, field: string): string {
  const value = row[field];
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as Row).value === 'string') return (value as Row).value as string;
  return value === undefined || value === null ? '' : String(value);
}

export async function startServiceNowTestServer(options: ServiceNowTestServerOptions = {}): Promise<ServiceNowTestServer> {
  const clock = options.clock ?? systemClock;
  const users = options.users ?? [{ username: 'admin', password: 'admin' }];
  const oauthClients = options.oauthClients ?? [{ clientId: 'summit', clientSecret: 'summit-secret' }];
  const tokenTtlSeconds = options.tokenTtlSeconds ?? 1799;
  const windowMs = options.rateLimit?.windowMs ?? 3_600_000;
  const tables: Tables = Object.fromEntries(Object.entries(options.fixtures ?? loadFixtures()).map(([t, rows]) => [t, rows.map(normaliseStored)]));
  tables.incident ??= [];
  const log: RequestLogEntry[] = [];
  const admitted: number[] = [];
  let faults: Fault[] = [];
  const accessTokens = new Map<string, { user: TestUser | null; expiresAt: number }>();
  const refreshTokens = new Map<string, { clientId: string; user: TestUser | null }>();
  let url = '';

  function mutate(sysId: string, changes: Row = {}, table = 'incident'): Row {
    const row = tables[table]?.find((r) => r.sys_id === sysId);
    if (!row) throw new Error(`no ${table} record ${sysId}`);
    for (const [k, v] of Object.entries(changes)) row[k] = typeof v === 'string' || (v && typeof v === 'object') ? v : String(v ?? '');
    row.sys_mod_count = String(Number(storedValue(row, 'sys_mod_count') || '0') + 1);
    row.sys_updated_on = typeof changes.sys_updated_on === 'string' ? changes.sys_updated_on : formatServiceNowTime(clock.now());
    return row;
  }

  function displayOf(field: string, row: Row, table: string): string {
    const raw = storedValue(row, field);
    const target = REFERENCE_TABLES[field];
    if (target && raw !== '') {
      const ref = tables[target]?.find((r) => r.sys_id === raw);
      return ref ? storedValue(ref, 'name') || storedValue(ref, 'number') : '';
    }
    if (CHOICE_FIELDS.has(field)) {
      const choice = tables.sys_choice?.find((c) => c.name === table && c.element === field && c.value === raw);
      if (choice) return storedValue(choice, 'label');
    }
    return raw;
  }

  function render(row: Row, table: string, params: URLSearchParams): Row {
    const display = params.get('sysparm_display_value') ?? 'false';
    const excludeLinks = params.get('sysparm_exclude_reference_link') === 'true';
    const fields = params.get('sysparm_fields')?.split(',').map((f) => f.trim()).filter(Boolean) ?? Object.keys(row);
    const out: Row = {};
    for (const field of fields) {
      const value = row[field];
      if (value !== undefined && typeof value !== 'string') {
        out[field] = value; // a drifted shape in a fixture is served as recorded
        continue;
      }
      const raw = value ?? '';
      const isReference = REFERENCE_TABLES[field] !== undefined && raw !== '';
      const link = `${url}/api/now/table/${REFERENCE_TABLES[field]}/${raw}`;
      if (display === 'all') {
        out[field] = { display_value: displayOf(field, row, table), value: raw, ...(isReference && !excludeLinks ? { link } : {}) };
      } else if (display === 'true') {
        const shown = displayOf(field, row, table);
        out[field] = isReference && !excludeLinks ? { display_value: shown, link } : shown;
      } else {
        out[field] = isReference && !excludeLinks ? { link, value: raw } : raw;
      }
    }
    return out;
  }

  function authenticate(req: IncomingMessage): TestUser | null | false {
    const header = req.headers.authorization ?? '';
    if (header.startsWith('Basic ')) {
      const [username, ...rest] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
      const user = users.find((u) => u.username === username && u.password === rest.join(':'));
      return user ?? false;
    }
    if (header.startsWith('Bearer ')) {
      const token = accessTokens.get(header.slice(7));
      if (!token || token.expiresAt <= clock.now().getTime()) return false;
      return token.user; // null: a client-credentials token, acting as the integration itself
    }
    return false;
  }

  function issueToken(clientId: string, user: TestUser | null, withRefresh: boolean): Row {
    const access = randomBytes(24).toString('base64url');
    accessTokens.set(access, { user, expiresAt: clock.now().getTime() + tokenTtlSeconds * 1000 });
    const body: Row = { access_token: access, scope: 'useraccount', token_type: 'Bearer', expires_in: tokenTtlSeconds };
    if (withRefresh) {
      const refresh = randomBytes(24).toString('base64url');
      refreshTokens.set(refresh, { clientId, user });
      body.refresh_token = refresh;
    }
    return body;
  }

  function handleToken(form: URLSearchParams): { status: number; body: Row } {
    const denied = { status: 401, body: { error_description: 'access_denied', error: 'server_error' } };
    const client = oauthClients.find((c) => c.clientId === form.get('client_id') && c.clientSecret === form.get('client_secret'));
    if (!client) return denied;
    switch (form.get('grant_type')) {
      case 'password': {
        const user = users.find((u) => u.username === form.get('username') && u.password === form.get('password'));
        return user ? { status: 200, body: issueToken(client.clientId, user, true) } : denied;
      }
      case 'client_credentials':
        return { status: 200, body: issueToken(client.clientId, null, false) };
      case 'refresh_token': {
        const stored = refreshTokens.get(form.get('refresh_token') ?? '');
        if (!stored || stored.clientId !== client.clientId) return denied;
        return { status: 200, body: issueToken(client.clientId, stored.user, false) };
      }
      default:
        return { status: 400, body: { error_description: 'unsupported grant_type', error: 'invalid_request' } };
    }
  }

  function listRows(table: string, params: URLSearchParams, apiPath: string, isV2: boolean) {
    const query = parseEncodedQuery(params.get('sysparm_query') ?? '');
    const rows = tables[table]!;
    const matched = rows.filter((row) => matchesQuery(query, (f) => storedValue(row, f)));
    // Array.prototype.sort is stable: ties keep insertion order, as an instance keeps an arbitrary fixed order.
    if (query.orderBy.length > 0) matched.sort((a, b) => compareByOrder(query.orderBy, (f) => storedValue(a, f), (f) => storedValue(b, f)));
    const limitParam = Number(params.get('sysparm_limit'));
    const limit = Number.isInteger(limitParam) && limitParam > 0 ? limitParam : DEFAULT_LIMIT;
    const offsetParam = Number(params.get('sysparm_offset'));
    const offset = Number.isInteger(offsetParam) && offsetParam > 0 ? offsetParam : 0;
    const hidden = new Set(faults.flatMap((f) => (f.kind === 'hide' ? f.sysIds : [])));
    // The limit applies before ACLs, so a page can come back short (or empty) while more rows exist.
    const page = matched.slice(offset, offset + limit).filter((row) => !hidden.has(String(row.sys_id)));
    const headers: Record<string, string> = {};
    if (params.get('sysparm_no_count') !== 'true') headers['X-Total-Count'] = String(matched.length);
    if (params.get('sysparm_suppress_pagination_header') !== 'true') {
      const at = (o: number) => {
        const next = new URLSearchParams(params);
        next.set('sysparm_limit', String(limit));
        next.set('sysparm_offset', String(o));
        return `<${url}${apiPath}?${next.toString()}>`;
      };
      const links = [`${at(0)};rel="first"`];
      if (offset > 0) links.push(`${at(Math.max(0, offset - limit))};rel="prev"`);
      if (offset + limit < matched.length) links.push(`${at(offset + limit)};rel="next"`);
      links.push(`${at(Math.max(0, Math.floor((matched.length - 1) / limit) * limit))};rel="last"`);
      headers.Link = links.join(',');
    }
    if (page.length === 0 && !isV2) return { error: { status: 404, message: 'No Record found', detail: "Records matching query not found. Check query parameter or offset parameter" } as ErrorAnswer };
    return { status: 200, headers, body: { result: page.map((row) => render(row, table, params)) } };
  }

  function createRow(table: string, body: Row): Row {
    const now = formatServiceNowTime(clock.now());
    const row: Row = {};
    if (table === 'incident' || table === 'sn_si_incident') {
      const highest = tables[table]!.reduce((max, r) => Math.max(max, Number(storedValue(r, 'number').replace(/\D/g, '')) || 0), 10_000);
      Object.assign(row, { number: `${table === 'incident' ? 'INC' : 'SIR'}${String(highest + 1).padStart(7, '0')}`, state: '1', impact: '3', urgency: '3', priority: '5', short_description: '', description: '', correlation_id: '', caller_id: '', assignment_group: '', cmdb_ci: '' });
    }
    for (const [k, v] of Object.entries(body)) row[k] = typeof v === 'string' ? v : v === null || v === undefined ? '' : typeof v === 'object' ? storedValue({ v }, 'v') : String(v);
    Object.assign(row, { sys_id: randomBytes(16).toString('hex'), sys_created_on: now, sys_updated_on: now, opened_at: row.opened_at || now, sys_mod_count: '0' });
    tables[table]!.push(row);
    return row;
  }

  type Answer = { status: number; body: unknown; headers?: Record<string, string> } | { error: ErrorAnswer };

  async function route(req: IncomingMessage, reqUrl: URL, body: string): Promise<Answer> {
    const method = req.method ?? 'GET';
    if (reqUrl.pathname === '/oauth_token.do') {
      if (method !== 'POST') return { error: { status: 405, message: 'Method not Supported', detail: null } };
      return handleToken(new URLSearchParams(body));
    }
    const m = /^\/api\/now\/(v[12]\/)?table\/([A-Za-z0-9_]+)(?:\/([^/]+))?$/.exec(reqUrl.pathname);
    if (!m) return { error: { status: 400, message: 'Requested URI does not represent any resource', detail: null } };
    const user = authenticate(req);
    if (user === false) return { error: { status: 401, message: 'User Not Authenticated', detail: 'Required to provide Auth information' } };
    const [, version, table, sysId] = m as unknown as [string, string | undefined, string, string | undefined];
    if (!tables[table]) return { error: { status: 400, message: `Invalid table ${table}`, detail: null } };
    const forbidden = { error: { status: 403, message: 'Operation Failed', detail: 'ACL Exception Insert Failed due to security constraints' } };
    if (user?.deniedTables?.includes(table)) return forbidden;
    const params = reqUrl.searchParams;
    if (method === 'GET' && !sysId) return listRows(table, params, reqUrl.pathname, version === 'v2/');
    const existing = sysId ? tables[table]!.find((r) => r.sys_id === sysId) : undefined;
    if (sysId && !existing) return { error: { status: 404, message: 'No Record found', detail: 'Record doesn\'t exist or ACL restricts the record retrieval' } };
    if (method === 'GET') return { status: 200, body: { result: render(existing!, table, params) } };
    if (method !== 'POST' && method !== 'PATCH' && method !== 'PUT') return { error: { status: 405, message: 'Method not Supported', detail: null } };
    if (user?.readOnly) return forbidden;
    if (!/application\/json/.test(req.headers['content-type'] ?? '')) return { error: { status: 415, message: 'Unsupported Media Type', detail: 'Content-Type must be application/json' } };
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {
      return { error: { status: 400, message: 'Exception while reading request', detail: 'The payload is not valid JSON.' } };
    }
    if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return { error: { status: 400, message: 'Exception while reading request', detail: 'Expected a JSON object' } };
    if (method === 'POST') {
      if (sysId) return { error: { status: 405, message: 'Method not Supported', detail: null } };
      const row = createRow(table, payload as Row);
      return { status: 201, body: { result: render(row, table, params) }, headers: { Location: `${url}/api/now/table/${table}/${String(row.sys_id)}` } };
    }
    if (!sysId) return { error: { status: 405, message: 'Method not Supported', detail: null } };
    const { sys_id: _ignored, sys_mod_count: _mod, ...changes } = payload as Row;
    return { status: 200, body: { result: render(mutate(sysId, changes, table), table, params) } };
  }

  function takeFault<K extends Fault['kind']>(kind: K): Extract<Fault, { kind: K }> | undefined {
    const fault = faults.find((f) => f.kind === kind) as (Extract<Fault, { kind: K }> & { count: number }) | undefined;
    if (!fault || !('count' in fault)) return fault;
    fault.count -= 1;
    if (fault.count <= 0) faults = faults.filter((f) => f !== fault);
    return fault;
  }

  function rateLimited(now: number): ErrorAnswer | null {
    const forced = takeFault('rate_limit');
    if (forced) return tooMany(forced.retryAfterSeconds, now, 'fault');
    if (!options.rateLimit) return null;
    const inWindow = admitted.filter((t) => t > now - windowMs);
    if (inWindow.length < options.rateLimit.limit) return null;
    const oldestThatMatters = inWindow[inWindow.length - options.rateLimit.limit]!;
    return tooMany(Math.max(1, Math.ceil((oldestThatMatters + windowMs - now) / 1000)), now, 'summit-test');
  }

  function tooMany(retryAfterSeconds: number, now: number, rule: string): ErrorAnswer {
    return {
      status: 429,
      message: 'Too Many Requests',
      detail: 'Rate limit exceeded',
      headers: {
        'Retry-After': String(retryAfterSeconds),
        'X-RateLimit-Limit': String(options.rateLimit?.limit ?? 0),
        'X-RateLimit-Reset': String(Math.ceil(now / 1000) + retryAfterSeconds),
        'X-RateLimit-Rule': rule,
      },
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const time = clock.now();
    const reqUrl = new URL(req.url ?? '/', 'http://127.0.0.1');
    const entry: RequestLogEntry = { time, method: req.method ?? 'GET', path: reqUrl.pathname, query: Object.fromEntries(reqUrl.searchParams), status: 0 };
    log.push(entry);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const drop = takeFault('drop');
    if (drop && !drop.afterApply) {
      req.socket.destroy();
      return;
    }
    const slow = takeFault('slow');
    if (slow) await new Promise((resolve) => setTimeout(resolve, slow.delayMs));
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      entry.status = status;
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers });
      res.end(JSON.stringify(body));
    };
    const sendError = (e: ErrorAnswer) => send(e.status, { error: { message: e.message, detail: e.detail }, status: 'failure' }, e.headers);
    const failure = takeFault('error');
    if (failure) return sendError({ status: failure.status ?? 503, message: 'Service Unavailable', detail: 'Injected fault' });
    const limited = rateLimited(time.getTime());
    if (limited) return sendError(limited);
    admitted.push(time.getTime());
    const answer = await route(req, reqUrl, Buffer.concat(chunks).toString('utf8'));
    if (drop) {
      entry.status = 'error' in answer ? answer.error.status : answer.status;
      req.socket.destroy();
      return;
    }
    if ('error' in answer) return sendError(answer.error);
    send(answer.status, answer.body, answer.headers);
    if (req.method === 'GET' && entry.status === 200 && /\/table\/[^/]+$/.test(reqUrl.pathname)) {
      for (const fault of faults) {
        if (fault.kind !== 'mutate') continue;
        fault.afterListRequests -= 1;
        if (fault.afterListRequests <= 0) {
          faults = faults.filter((f) => f !== fault);
          mutate(fault.sysId, fault.changes, fault.table);
        }
      }
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'Internal Server Error', detail: String(error) }, status: 'failure' }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    log,
    tables,
    records: tables.incident,
    setFault: (fault) => {
      faults.push({ ...fault });
    },
    clearFaults: () => {
      faults = [];
    },
    mutate,
    revokeTokens: () => accessTokens.clear(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
