/**
 * Summit as a user runs it: the `summit` command in a child process on the embedded store, talking HTTP on a real
 * port. Runs on PGlite only (it is about the embedded store's files and lock).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'summit-e2e-'));
const baseEnv = { ...process.env, SUMMIT_DATA_DIR: dataDir, SUMMIT_PORT: '0', DATABASE_URL: '', SUMMIT_LOG_LEVEL: 'info' };

function cli(args: string[], env: Record<string, string> = {}) {
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'src/summit.ts', ...args], {
    cwd: serverDir,
    env: { ...baseEnv, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

type Server = { child: ChildProcess; url: string; logs: () => string };

async function serve(): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/summit.ts', 'serve'], { cwd: serverDir, env: baseEnv });
  let logs = '';
  child.stderr.on('data', (d) => (logs += d));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      logs += d;
      const match = /"url":"(http:\/\/[^"]+)".*Summit is serving/.exec(logs);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${logs}`)));
  });
  return { child, url, logs: () => logs };
}

async function stop(server: Server): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  return exited;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const read = (file: string) => readFileSync(path.join(dataDir, file), 'utf8').trim();

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('summit serve on the embedded store', () => {
  let demoTenantId = '';

  it('starts with a demo tenant whose admin token is in a 0600 file, logging the path and never the token', async () => {
    const server = await serve();
    try {
      const token = read('demo-admin.token');
      expect(statSync(path.join(dataDir, 'demo-admin.token')).mode & 0o777).toBe(0o600);
      expect(statSync(path.join(dataDir, 'operator.token')).mode & 0o777).toBe(0o600);
      expect(server.logs()).toContain(path.join(dataDir, 'demo-admin.token'));
      expect(server.logs()).not.toContain(token);
      expect(server.logs()).not.toContain(read('operator.token'));

      expect((await (await fetch(`${server.url}/readyz`)).json()).status).toBe('ready');
      const me = await (await fetch(`${server.url}/api/v1/me`, { headers: bearer(token) })).json();
      expect(me.tenant.name).toBe('demo');
      demoTenantId = me.tenant.id;
      const tenants = await fetch(`${server.url}/api/v1/tenants`, { headers: bearer(read('operator.token')) });
      expect(tenants.status).toBe(200);

      // The demo tenant starts with a living graph, imported without a single rejection.
      const runs = await (await fetch(`${server.url}/api/v1/ingest/runs`, { headers: bearer(token) })).json();
      expect(runs.items.length).toBeGreaterThanOrEqual(3);
      for (const run of runs.items) expect({ source: run.source, status: run.status, rejections: run.rejections.slice(0, 3) }).toMatchObject({ status: 'succeeded', rejections: [] });
      const actors = await (await fetch(`${server.url}/api/v1/entities?type=threat-actor`, { headers: bearer(token) })).json();
      expect(actors.items.length).toBeGreaterThan(0);

      // ... and the example playbooks, which run on it with their defaults and find something.
      const playbooks = (await (await fetch(`${server.url}/api/v1/playbooks`, { headers: bearer(token) })).json()).items;
      expect(playbooks.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['C2 infrastructure of a campaign', 'Corroborated indicators', 'Incident triage']));
      const c2 = playbooks.find((p: { name: string }) => p.name === 'C2 infrastructure of a campaign');
      const started = await fetch(`${server.url}/api/v1/playbooks/${c2.id}/runs`, {
        method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json' }, body: JSON.stringify({ params: {} }),
      });
      expect(started.status).toBe(202);
      const { runId } = await started.json();
      let run: { status: string; results: { report: { sections: { rows: unknown[] }[] }; highlights: unknown[] } } | undefined;
      for (let i = 0; i < 300 && !['succeeded', 'failed'].includes(run?.status ?? ''); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        run = await (await fetch(`${server.url}/api/v1/runs/${runId}`, { headers: bearer(token) })).json();
      }
      expect(run?.status).toBe('succeeded');
      expect(run!.results.report.sections.reduce((n, s) => n + s.rows.length, 0)).toBeGreaterThan(0);
      expect(run!.results.highlights.length).toBeGreaterThan(0);

      const refused = cli(['tenant', 'list']);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('in use by a running Summit process');
    } finally {
      expect(await stop(server)).toBe(0);
    }
    expect(existsSync(path.join(dataDir, 'summit.lock'))).toBe(false);
    // A first start creates the store, migrates it and seeds the demo graph: half a minute on a busy machine.
  }, 180_000);

  it('lets the CLI create and list tenants and verify a chain once the server is stopped', () => {
    const created = cli(['tenant', 'create', 'beta', '--admin-email', 'ops@beta.example', '--json']);
    expect(created.status, created.stderr).toBe(0);
    const tenant = JSON.parse(created.stdout);
    expect(tenant).toMatchObject({ name: 'beta', adminToken: expect.stringMatching(/^smt_/) });

    const listed = JSON.parse(cli(['tenant', 'list', '--json']).stdout);
    expect(listed.map((x: { name: string }) => x.name).sort()).toEqual(['beta', 'demo']);

    const verified = cli(['audit', 'verify', '--tenant', demoTenantId]);
    expect(verified.status).toBe(0);
    expect(verified.stdout).toContain('audit chain ok');

    const dup = cli(['tenant', 'create', 'beta', '--admin-email', 'x@beta.example']);
    expect(dup.status).toBe(1);
    expect(dup.stderr).toContain('already exists');
  }, 180_000);

  it('explains bad CLI input instead of failing deep inside', () => {
    const email = cli(['tenant', 'create', 'gamma', '--admin-email', 'not-an-email']);
    expect(email.status).toBe(1);
    expect(email.stderr).toContain('--admin-email');
    const id = cli(['audit', 'verify', '--tenant', 'nope']);
    expect(id.status).toBe(1);
    expect(id.stderr).toContain('--tenant');
    const unknown = cli(['audit', 'verify', '--tenant', '00000000-0000-4000-8000-000000000000']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('was not found');
  }, 180_000);

  it('keeps the demo tenant across restarts and reissues its token if the file is gone', async () => {
    const before = read('demo-admin.token');
    rmSync(path.join(dataDir, 'demo-admin.token'));
    const server = await serve();
    try {
      const token = read('demo-admin.token');
      expect(token).not.toBe(before);
      const me = await (await fetch(`${server.url}/api/v1/me`, { headers: bearer(token) })).json();
      expect(me.tenant.id).toBe(demoTenantId);
      // A copy of the lost token must not keep working.
      expect((await fetch(`${server.url}/api/v1/me`, { headers: bearer(before) })).status).toBe(401);
      const tenants = await (await fetch(`${server.url}/api/v1/tenants`, { headers: bearer(read('operator.token')) })).json();
      expect(tenants.items.filter((x: { name: string }) => x.name === 'demo')).toHaveLength(1);
    } finally {
      await stop(server);
    }
  }, 120_000);

  it('refuses to start on a bad setting, naming it', () => {
    const res = cli(['serve'], { SUMMIT_PORT: 'eighty' });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('SUMMIT_PORT');
    const prod = cli(['serve'], { SUMMIT_ENV: 'prod' });
    expect(prod.status).toBe(1);
    expect(prod.stderr).toContain('SUMMIT_SECRET');
  }, 120_000);
});
