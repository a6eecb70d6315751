/**
 * `summit playbook export|import` against a real server on a real port: the command handlers run in-process with
 * captured stdout/stderr (the way the CLI wires them), and one test runs the `summit` command in a child process
 * for its exit codes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { exportPlaybook, importPlaybook, type CliIo } from '../src/cli-playbooks.js';
import { createTestApp, type TestApp, type TestTenant } from './harness.js';

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'summit-cli-playbooks-'));
const file = (name: string) => path.join(dir, name);
let t: TestApp;
let acme: TestTenant;
let baseUrl = '';

/** A definition with values YAML could misread (yes, a date, a leading zero, a number-like tag), and a long text. */
const definition = (name: string) => ({
  name,
  description: 'C2 infrastructure of a malware family.\nSecond line: "quoted", # not a comment, and a long sentence that goes on well past eighty columns without a break.',
  tags: ['c2', '2025'],
  parameters: [
    { name: 'family', type: 'string', default: 'yes', description: 'Malware family name' },
    { name: 'since', type: 'string', default: '2025-06-01', required: false },
    { name: 'depth', type: 'integer', default: 2, min: 1, max: 3 },
    { name: 'code', type: 'enum', values: ['0123', 'on', 'null'], default: '0123' },
  ],
  steps: [
    { type: 'search', id: 'family', q: { $param: 'family' }, types: ['malware'] },
    { id: 'around', type: 'expand', depth: { $param: 'depth' } },
    { id: 'infra', type: 'filter', types: ['ipv4-addr', 'domain-name'], where: [{ value: '10.', op: 'startsWith', path: 'name' }] },
    { id: 'mark', type: 'annotate', rules: [{ note: 'Known C2 address', severity: 'high', when: { types: ['ipv4-addr'] }, id: 'c2' }] },
    { id: 'report', type: 'report', title: 'C2', sections: [{ title: 'Infrastructure', from: 'mark', columns: [{ key: 'name', label: 'Value' }, { key: 'tlp' }], orderBy: { field: 'name' } }] },
  ],
});

function capture(env: Record<string, string | undefined> = {}) {
  let out = '';
  let err = '';
  const io: CliIo = { out: (s) => void (out += s), err: (s) => void (err += s), env };
  return { io, out: () => out, err: () => err };
}
const withToken = () => capture({ SUMMIT_URL: baseUrl, SUMMIT_TOKEN: acme.adminToken });

async function create(name: string) {
  const res = await acme.admin.post('/api/v1/playbooks', definition(name));
  expect(res.statusCode).toBe(201);
  return res.json() as { id: string };
}
const current = async (id: string) => (await acme.admin.get(`/api/v1/playbooks/${id}`)).json() as { name: string; version: number; definition: Record<string, unknown> };
async function idOf(name: string): Promise<string> {
  const items = (await acme.admin.get(`/api/v1/playbooks?q=${encodeURIComponent(name)}`)).json().items as Array<{ id: string; name: string }>;
  return items.find((p) => p.name === name)!.id;
}

beforeAll(async () => {
  t = await createTestApp();
  acme = await t.createTenant();
  await t.summit.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.summit.app.server.address();
  if (!address || typeof address === 'string') throw new Error('not listening on a TCP port');
  baseUrl = `http://127.0.0.1:${address.port}`;
}, 120_000);
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('summit playbook export', () => {
  it('prints the definition as YAML by default: the POST body only, keys in a fixed order, the same bytes every time', async () => {
    await create('export yaml');
    const run = withToken();
    expect(await exportPlaybook(run.io, 'export yaml', {})).toBe(0);
    const text = run.out();
    const parsed = YAML.parse(text);
    expect(Object.keys(parsed)).toEqual(['name', 'description', 'tags', 'parameters', 'steps']);
    expect(parsed).toEqual(definition('export yaml'));
    expect(text).not.toMatch(/createdAt|ownerId|version:/);
    expect(Object.keys(parsed.steps[0])).toEqual(['id', 'type', 'q', 'types']);
    expect(Object.keys(parsed.steps[3].rules[0])).toEqual(['id', 'when', 'severity', 'note']);
    expect(Object.keys(parsed.steps[2].where[0])).toEqual(['path', 'op', 'value']);
    expect(Object.keys(parsed.parameters[1])).toEqual(['name', 'type', 'default', 'required']);
    // A long description stays on one line: an edit to it is a one-line diff.
    expect(text).toContain('a long sentence that goes on well past eighty columns without a break.');
    expect(run.err()).toBe('');

    const again = withToken();
    await exportPlaybook(again.io, 'EXPORT YAML', {});
    expect(again.out()).toBe(text);
  });

  it('writes JSON to a file by its extension, by id, and fills absent description, tags and parameters', async () => {
    const res = await acme.admin.post('/api/v1/playbooks', { name: 'minimal', steps: [{ id: 's', type: 'search', types: ['malware'] }] });
    const { id } = res.json();
    const run = withToken();
    expect(await exportPlaybook(run.io, id, { out: file('minimal.json') })).toBe(0);
    expect(run.out()).toContain(`exported playbook "minimal" (version 1) to ${file('minimal.json')} as JSON`);
    const text = readFileSync(file('minimal.json'), 'utf8');
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text)).toEqual({ name: 'minimal', description: '', tags: [], parameters: [], steps: [{ id: 's', type: 'search', types: ['malware'] }] });

    const forced = withToken();
    await exportPlaybook(forced.io, id, { out: file('minimal.txt'), format: 'json' });
    expect(JSON.parse(readFileSync(file('minimal.txt'), 'utf8')).name).toBe('minimal');
    const yamlByDefault = withToken();
    await exportPlaybook(yamlByDefault.io, id, { out: file('minimal.txt') });
    expect(YAML.parse(readFileSync(file('minimal.txt'), 'utf8')).name).toBe('minimal');
  });

  it('fails with exit 1 for a playbook that does not exist', async () => {
    const byName = withToken();
    expect(await exportPlaybook(byName.io, 'no such playbook', {})).toBe(1);
    expect(byName.err()).toBe('summit: no playbook named "no such playbook" that you may view\n');
    const byId = withToken();
    expect(await exportPlaybook(byId.io, '00000000-0000-4000-8000-000000000000', {})).toBe(1);
    expect(byId.err()).toContain('no playbook with id "00000000-0000-4000-8000-000000000000"');
    expect(byName.out() + byId.out()).toBe('');
  });
});

describe('summit playbook import', () => {
  it.each(['yaml', 'json'] as const)('round-trips through a %s file: export, rename, import gives the same definition', async (format) => {
    await create(`round trip ${format}`);
    const exported = withToken();
    expect(await exportPlaybook(exported.io, `round trip ${format}`, { format })).toBe(0);
    const renamed = exported.out().replace(`round trip ${format}`, `round trip ${format} copy`);
    writeFileSync(file(`copy.${format}`), renamed);

    const imported = withToken();
    expect(await importPlaybook(imported.io, file(`copy.${format}`), {})).toBe(0);
    expect(imported.out()).toMatch(new RegExp(`^created playbook "round trip ${format} copy" \\(id [0-9a-f-]{36}, version 1\\)\\n$`));
    const copy = await current(await idOf(`round trip ${format} copy`));
    expect(copy.definition).toEqual(definition(`round trip ${format} copy`));

    const again = withToken();
    await exportPlaybook(again.io, `round trip ${format} copy`, { format });
    expect(again.out()).toBe(renamed);
  });

  it('with --update saves the file as version 2 of the playbook of that name, and saves nothing when it is unchanged', async () => {
    const { id } = await create('updated');
    const exported = withToken();
    await exportPlaybook(exported.io, 'updated', { out: file('updated.yaml') });
    const doc = YAML.parse(readFileSync(file('updated.yaml'), 'utf8'));
    doc.description = 'Second version';
    delete doc.tags; // absent in the file means none, not "keep the old tags"
    writeFileSync(file('updated.yaml'), YAML.stringify(doc));

    const run = withToken();
    expect(await importPlaybook(run.io, file('updated.yaml'), { update: true })).toBe(0);
    expect(run.out()).toBe(`updated playbook "updated" (id ${id}): version 2\n`);
    const after = await current(id);
    expect(after).toMatchObject({ version: 2, definition: { description: 'Second version', tags: [] } });
    const versions = (await acme.admin.get(`/api/v1/playbooks/${id}/versions`)).json().items;
    expect(versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);

    const same = withToken();
    expect(await importPlaybook(same.io, file('updated.yaml'), { update: true })).toBe(0);
    expect(same.out()).toBe('playbook "updated" already has this definition (version 2); nothing saved\n');
    expect((await current(id)).version).toBe(2);
  });

  it('refuses an existing name without --update (409), and --update without a playbook of that name', async () => {
    await create('taken');
    writeFileSync(file('taken.json'), JSON.stringify(definition('taken')));
    const run = withToken();
    expect(await importPlaybook(run.io, file('taken.json'), {})).toBe(1);
    expect(run.err()).toBe(`summit: a playbook named "taken" already exists: run again with --update to save ${file('taken.json')} as its next version\n`);

    writeFileSync(file('missing.json'), JSON.stringify(definition('never saved')));
    const update = withToken();
    expect(await importPlaybook(update.io, file('missing.json'), { update: true })).toBe(1);
    expect(update.err()).toContain('no playbook named "never saved" that you may view: run without --update to create it');
  });

  it('lists every problem of an invalid definition one per line, path first, and saves nothing', async () => {
    const bad = definition('invalid');
    (bad.steps[1] as Record<string, unknown>).depth = 9;
    (bad.steps[3] as { rules: Array<Record<string, unknown>> }).rules[0]!.severity = 'urgent';
    writeFileSync(file('invalid.yaml'), YAML.stringify(bad));
    const run = withToken();
    expect(await importPlaybook(run.io, file('invalid.yaml'), {})).toBe(1);
    const lines = run.err().trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^summit: ${file('invalid.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} was not imported: the server answered 400: `));
    expect(lines.slice(1)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^ {2}steps\[1\]\.depth: \S/),
      expect.stringMatching(/^ {2}steps\[3\]\.rules\[0\]\.severity: \S/),
    ]));
    expect((await acme.admin.get('/api/v1/playbooks?q=invalid')).json().items).toEqual([]);
  });

  it('names the line and column of a YAML or JSON syntax error, and a missing file', async () => {
    writeFileSync(file('broken.yaml'), 'name: broken\nsteps:\n  - id: a\n    type: [search\n');
    const yaml = withToken();
    expect(await importPlaybook(yaml.io, file('broken.yaml'), {})).toBe(1);
    expect(yaml.err()).toMatch(new RegExp(`^summit: ${file('broken.yaml')}:\\d+:\\d+: not valid YAML: `));

    writeFileSync(file('broken.json'), '{\n  "name": "broken",\n  "steps": [}\n}\n');
    const json = withToken();
    expect(await importPlaybook(json.io, file('broken.json'), {})).toBe(1);
    expect(json.err()).toMatch(new RegExp(`^summit: ${file('broken.json')}:3:13: not valid JSON: `));

    writeFileSync(file('cycle.yaml'), 'name: cycle\nsteps: &s [*s]\n');
    const cycle = withToken();
    expect(await importPlaybook(cycle.io, file('cycle.yaml'), {})).toBe(1);
    expect(cycle.err()).toContain('refers to the node that contains it');

    writeFileSync(file('list.yaml'), '- name: a\n');
    const list = withToken();
    expect(await importPlaybook(list.io, file('list.yaml'), {})).toBe(1);
    expect(list.err()).toContain('expected a playbook definition (a mapping with name, description, tags, parameters and steps), found a list');

    const missing = withToken();
    expect(await importPlaybook(missing.io, file('nope.yaml'), {})).toBe(1);
    expect(missing.err()).toBe(`summit: file not found: ${file('nope.yaml')}\n`);
  });
});

describe('connecting', () => {
  it('reads the token from --token-file, and says so when a token is missing or refused without printing it', async () => {
    await create('token file');
    writeFileSync(file('admin.token'), `${acme.adminToken}\n`);
    const fromFile = capture({ SUMMIT_URL: baseUrl });
    expect(await exportPlaybook(fromFile.io, 'token file', { tokenFile: file('admin.token') })).toBe(0);
    expect(YAML.parse(fromFile.out()).name).toBe('token file');

    const none = capture({ SUMMIT_URL: baseUrl });
    expect(await exportPlaybook(none.io, 'token file', {})).toBe(1);
    expect(none.err()).toContain('no API token: pass --token-file');

    const noFile = capture({ SUMMIT_URL: baseUrl });
    expect(await exportPlaybook(noFile.io, 'token file', { tokenFile: file('absent.token') })).toBe(1);
    expect(noFile.err()).toContain(`cannot read the token file ${file('absent.token')}: no such file`);

    const wrong = `${acme.adminToken.slice(0, -4)}zzzz`;
    const refused = capture({ SUMMIT_URL: baseUrl, SUMMIT_TOKEN: wrong });
    expect(await exportPlaybook(refused.io, 'token file', {})).toBe(1);
    expect(refused.err()).toMatch(/answered 401: .*\ncheck the token/);
    expect(refused.err()).not.toContain(wrong);
    expect(fromFile.err() + none.err() + noFile.err()).not.toContain(acme.adminToken);
  });

  it('says where it tried to connect when no server answers', async () => {
    // A port that was free a moment ago: nothing listens on it.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const run = capture({ SUMMIT_TOKEN: acme.adminToken });
    expect(await exportPlaybook(run.io, 'anything', { url: `http://127.0.0.1:${port}` })).toBe(1);
    expect(run.err()).toContain(`cannot reach Summit at http://127.0.0.1:${port}: ECONNREFUSED. Is \`summit serve\` running there?`);
    expect(run.err()).not.toContain(acme.adminToken);
  });

  it('runs as the summit command: exit 0 on success, 1 on failure, 2 on a usage error', async () => {
    await create('from the command');
    writeFileSync(file('cmd.token'), acme.adminToken);
    const summit = (args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/summit.ts', 'playbook', ...args], {
        cwd: serverDir, env: { ...process.env, SUMMIT_URL: baseUrl, SUMMIT_TOKEN: '' }, encoding: 'utf8', timeout: 60_000,
      }).then((r) => ({ code: 0, ...r }), (e: { code: number; stdout: string; stderr: string }) => e);

    const ok = await summit(['export', 'from the command', '--token-file', file('cmd.token'), '--format', 'json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).name).toBe('from the command');
    const failed = await summit(['import', file('nope.json'), '--token-file', file('cmd.token')]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('file not found');
    const usage = await summit(['export', 'from the command', '--format', 'xml']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("argument 'xml' is invalid");
    expect(ok.stdout + ok.stderr + failed.stderr).not.toContain(acme.adminToken);
  }, 60_000);
});
