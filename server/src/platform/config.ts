import { z } from 'zod';

/** A whole number written in plain digits: Number() would also take " ", "0x1f90" or "1e3". */
const wholeNumber = () => z.string().trim().regex(/^\d+$/, 'must be a whole number').transform(Number);

/**
 * The one place that reads process.env. Every variable is described so `summit config --help`-style output and the
 * README can be generated from the same source. A bad value stops the start with a message naming the variable.
 */
export const configSchema = z.object({
  SUMMIT_HOST: z.string().min(1).default('127.0.0.1').describe('Address the HTTP API binds to.'),
  SUMMIT_PORT: wholeNumber()
    .pipe(z.number().min(0).max(65535))
    .default(8080)
    .describe('Port the HTTP API listens on (0 picks a free port).'),
  SUMMIT_DATA_DIR: z
    .string()
    .min(1)
    .default('./data')
    .describe('Directory for the embedded store, the generated secret and the bootstrap token files.'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional()
    .describe('PostgreSQL connection URL. Unset means the embedded PGlite store in SUMMIT_DATA_DIR.'),
  SUMMIT_ENV: z.enum(['dev', 'prod']).default('dev').describe('prod enforces schema approvals and requires SUMMIT_SECRET.'),
  SUMMIT_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters')
    .optional()
    .describe('Signing key for audit checkpoints, share links and exports. Generated into the data dir when unset (dev only).'),
  SUMMIT_OPERATOR_TOKEN: z
    .string()
    .min(32, 'must be at least 32 characters')
    .optional()
    .describe('Platform operator bearer token. Generated into <data dir>/operator.token on first start when unset.'),
  SUMMIT_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('Log level of the JSON logs.'),
  SUMMIT_BODY_LIMIT: wholeNumber()
    .pipe(z.number().min(1024))
    .default(1024 * 1024)
    .describe('Largest accepted request body in bytes (larger bodies get 413).'),
  SUMMIT_REQUEST_TIMEOUT_MS: wholeNumber()
    .pipe(z.number().min(1000))
    .default(120_000)
    .describe('Longest an API request may run, in milliseconds; a request still running is answered 503 and its database statements are stopped.'),
  SUMMIT_MAX_SCHEDULES_PER_TENANT: wholeNumber()
    .pipe(z.number().min(1))
    .default(100)
    .describe('Most schedules a tenant may have.'),
  SUMMIT_AUTO_REPLAY_POLICY: z
    .string()
    .min(1)
    .optional()
    .describe('Path of the dead-letter auto-replay policy (default: ops/dlq/auto_replay.yaml in the repository).'),
  SUMMIT_DEMO_TENANT: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('Create the demo tenant on first start (default: true in dev, false in prod).'),
});

export type Config = Omit<z.output<typeof configSchema>, 'SUMMIT_DEMO_TENANT'> & { SUMMIT_DEMO_TENANT: boolean };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses configuration from an environment map; empty strings count as unset. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const relevant = Object.fromEntries(
    Object.keys(configSchema.shape)
      .map((key) => [key, env[key]] as const)
      .filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = configSchema.safeParse(relevant);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || 'config'}: ${issue.message}`),
    );
  }
  const config = { ...parsed.data, SUMMIT_DEMO_TENANT: parsed.data.SUMMIT_DEMO_TENANT ?? parsed.data.SUMMIT_ENV === 'dev' };
  if (config.SUMMIT_ENV === 'prod' && !config.SUMMIT_SECRET) {
    throw new ConfigError(['SUMMIT_SECRET: required when SUMMIT_ENV=prod (at least 32 characters)']);
  }
  return config;
}
