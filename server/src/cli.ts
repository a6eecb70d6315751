import { Command, CommanderError, Option } from 'commander';
import { registerPlaybookCommands } from './cli-playbooks.js';
import { buildApp, type SummitApp } from './app.js';
import { systemClock } from './platform/clock.js';
import { ConfigError, loadConfig, type Config } from './platform/config.js';
import { actorOf, type Ctx } from './platform/context.js';
import { DataDirInUseError } from './platform/data-dir.js';
import { AppError } from './platform/errors.js';
import { printable } from './platform/terminal-text.js';
import { z } from 'zod';
import { createTenantBody } from './modules/tenancy/index.js';
import { openStore, prepareStore, resolveSecrets, startSummit, type Role } from './main.js';

type Output = { json?: boolean };

function fail(message: string): never {
  console.error(`summit: ${message}`);
  process.exit(1);
}

/** Config from the environment, with CLI flags layered on top. */
function configWith(overrides: Record<string, string | undefined>): Config {
  const env = { ...process.env };
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) env[key] = value;
  return loadConfig(env);
}

/** Runs an offline operator action against the store with the same services the API uses. */
async function withSummit<T>(config: Config, fn: (summit: SummitApp, ctx: Ctx) => Promise<T>): Promise<T> {
  const store = await openStore(config);
  try {
    await prepareStore(store.db);
    const secrets = resolveSecrets(config, store.dataDir);
    const summit = await buildApp({ config, db: store.db, clock: systemClock, ...secrets, logger: false });
    const principal = { kind: 'system', name: 'cli' } as const;
    const ctx: Ctx = { principal, actor: actorOf(principal), requestId: `cli-${Date.now()}`, log: summit.app.log };
    try {
      return await fn(summit, ctx);
    } finally {
      await summit.app.close();
    }
  } finally {
    await store.close();
  }
}

/** Validates CLI input with the API's own schema, naming the flag or argument that is wrong. */
function parseInput<T extends z.ZodType>(schema: T, input: unknown, names: Record<string, string>): z.output<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  fail(parsed.error.issues.map((issue) => `${names[String(issue.path[0])] ?? issue.path.join('.')}: ${issue.message}`).join('; '));
}

/** One line per tenant. Names are tenants' text: control characters are shown escaped, never sent to the terminal. */
export function formatTenantList(items: ReadonlyArray<{ id: string; name: string; createdAt: string }>): string {
  return items.map((t) => `${t.id}  ${printable(t.name)}  ${t.createdAt}`).join('\n') || 'no tenants';
}

function print(output: Output, value: unknown, text: () => string) {
  console.log(output.json ? JSON.stringify(value, null, 2) : text());
}

export function createCli(): Command {
  const program = new Command('summit')
    .description('Summit: intelligence graph and playbook orchestrator')
    .showHelpAfterError()
    .option('--data-dir <dir>', 'data directory (SUMMIT_DATA_DIR)')
    .option('--database-url <url>', 'PostgreSQL URL (DATABASE_URL); unset means the embedded store');
  const globals = () => {
    const o = program.opts<{ dataDir?: string; databaseUrl?: string }>();
    return { SUMMIT_DATA_DIR: o.dataDir, DATABASE_URL: o.databaseUrl };
  };

  program
    .command('serve')
    .description('run the HTTP API (migrates the store first)')
    .option('--host <host>', 'bind address (SUMMIT_HOST)')
    .addOption(new Option('--port <port>', 'port (SUMMIT_PORT)'))
    .addOption(
      new Option('--role <role>', 'api: HTTP only; worker: jobs and scheduler only; all: both').choices(['api', 'worker', 'all']).default('all'),
    )
    .action(async (options: { host?: string; port?: string; role: Role }) => {
      const running = await startSummit(configWith({ ...globals(), SUMMIT_HOST: options.host, SUMMIT_PORT: options.port }), {
        role: options.role,
      });
      const shutdown = async (signal: string) => {
        running.log.info({ signal }, 'shutting down');
        await running.stop();
        process.exit(0);
      };
      process.once('SIGINT', () => void shutdown('SIGINT'));
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
    });

  program
    .command('migrate')
    .description('apply pending database migrations')
    .action(async () => {
      const store = await openStore(configWith(globals()));
      try {
        const applied = await prepareStore(store.db);
        console.log(applied.length ? `applied migrations ${applied.join(', ')}` : 'the store is up to date');
      } finally {
        await store.close();
      }
    });

  const tenant = program.command('tenant').description('manage tenants (as the platform operator)');
  tenant
    .command('create <name>')
    .description('create a tenant and its first admin; prints the admin token once')
    .requiredOption('--admin-email <email>', 'e-mail of the first admin')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { adminEmail: string } & Output) => {
      const input = parseInput(createTenantBody, { name, adminEmail: options.adminEmail }, { adminEmail: '--admin-email', name: 'NAME' });
      const created = await withSummit(configWith(globals()), (summit, ctx) =>
        summit.modules.tenancy.tenants.createTenant(ctx, input),
      );
      print(options, created, () =>
        [`tenant ${printable(created.name)} created (id ${created.id})`, `admin token (shown once): ${created.adminToken}`].join('\n'),
      );
    });
  tenant
    .command('list')
    .description('list tenants')
    .option('--json', 'print JSON')
    .action(async (options: Output) => {
      const items = await withSummit(configWith(globals()), async (summit, ctx) => {
        const all = [];
        let cursor: string | undefined;
        do {
          const page = await summit.modules.tenancy.tenants.listTenants(ctx, { limit: 200, cursor });
          all.push(...page.items);
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        return all;
      });
      print(options, items, () => formatTenantList(items));
    });

  program
    .command('audit')
    .description('audit log tools')
    .command('verify')
    .description('verify a tenant\'s audit hash chain; exits 1 if it is broken')
    .requiredOption('--tenant <id>', 'tenant id')
    .option('--json', 'print JSON')
    .action(async (options: { tenant: string } & Output) => {
      const { tenant } = parseInput(z.object({ tenant: z.uuid() }), options, { tenant: '--tenant' });
      const result = await withSummit(configWith(globals()), async (summit, ctx) => {
        await summit.modules.tenancy.tenants.getTenant(tenant);
        return summit.modules.audit.verify({ ...ctx, tenantId: tenant });
      });
      print(options, result, () =>
        result.ok
          ? `audit chain ok: ${result.checked} events verified (last sequence ${result.lastSequence})`
          : `audit chain BROKEN at sequence ${result.firstBadSequence}: ${result.reason}`,
      );
      if (!result.ok) process.exitCode = 1;
    });

  registerPlaybookCommands(program, {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
  });
  return program;
}

export async function runCli(argv: string[]): Promise<void> {
  try {
    await createCli().parseAsync(argv);
  } catch (error) {
    // Commands that override commander's exits (summit playbook …) throw its errors, already printed: a usage error
    // exits 2, help 0.
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
    if (error instanceof ConfigError || error instanceof DataDirInUseError || error instanceof AppError) fail(error.message);
    const { code, syscall } = error as NodeJS.ErrnoException;
    if (syscall === 'listen' && (code === 'EADDRINUSE' || code === 'EACCES')) {
      fail(`cannot listen: ${(error as Error).message}. Choose another address with SUMMIT_HOST/SUMMIT_PORT.`);
    }
    if (process.env.SUMMIT_LOG_LEVEL === 'debug' || process.env.SUMMIT_LOG_LEVEL === 'trace') throw error;
    fail(`${(error as Error).message} (set SUMMIT_LOG_LEVEL=debug for the stack trace)`);
  }
}
