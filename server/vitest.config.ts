import { defineConfig } from 'vitest/config';

/**
 * Two projects. `pglite` runs every test (unit tests beside the code, HTTP and store tests under test/) on the
 * embedded store. `postgres` runs the store-backed suites again against a real PostgreSQL server, and is enabled
 * when DATABASE_URL is set (CI sets it), so one `npm test` exercises both stores.
 */
const postgresUrl = process.env.DATABASE_URL;

export default defineConfig({
  test: {
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
    maxWorkers: 2,
    testTimeout: 30_000,
    // Node 20.20's V8 aborts a test worker ("Fatal error … unreachable code" in the deoptimizer) after a few hundred
    // Cedar decisions in one file (src/modules/policy/policy-engine.test.ts, every run); without TurboFan inlining
    // it does not. See the note in docs/operations.md.
    execArgv: ['--no-turbo-inlining'],
    setupFiles: ['test/property-seed.ts'],
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'pglite',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          // Faults across processes need a server the processes share: PostgreSQL only.
          exclude: ['test/postgres/**'],
          globalSetup: ['test/global-setup.ts'],
          env: { SUMMIT_TEST_STORE: 'pglite' },
        },
      },
      ...(postgresUrl
        ? [
            {
              extends: true as const,
              test: {
                name: 'postgres',
                include: ['test/**/*.test.ts'],
                exclude: ['test/embedded/**'],
                globalSetup: ['test/global-setup.ts'],
                env: { SUMMIT_TEST_STORE: 'postgres' },
              },
            },
          ]
        : []),
    ],
  },
});
