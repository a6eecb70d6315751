import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const SECRET = 's'.repeat(32);

/** Runs loadConfig expecting a ConfigError and returns it, so tests can assert on its message and problems. */
function configErrorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('loadConfig accepted an environment it should have refused');
}

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config.SUMMIT_HOST).toBe('127.0.0.1');
    expect(config.SUMMIT_PORT).toBe(8080);
    expect(config.SUMMIT_DATA_DIR).toBe('./data');
    expect(config.SUMMIT_ENV).toBe('dev');
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.SUMMIT_SECRET).toBeUndefined();
    expect(config.SUMMIT_LOG_LEVEL).toBe('info');
    expect(config.SUMMIT_BODY_LIMIT).toBe(1024 * 1024);
    expect(config.SUMMIT_DEMO_TENANT).toBe(true);
  });

  it('treats empty strings as unset, so the defaults apply', () => {
    const config = loadConfig({
      SUMMIT_HOST: '',
      SUMMIT_PORT: '',
      SUMMIT_DATA_DIR: '',
      SUMMIT_ENV: '',
      DATABASE_URL: '',
      SUMMIT_SECRET: '',
    });
    expect(config.SUMMIT_HOST).toBe('127.0.0.1');
    expect(config.SUMMIT_PORT).toBe(8080);
    expect(config.SUMMIT_DATA_DIR).toBe('./data');
    expect(config.SUMMIT_ENV).toBe('dev');
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.SUMMIT_SECRET).toBeUndefined();
  });

  it('reads set values and coerces the port to a number', () => {
    const config = loadConfig({
      SUMMIT_HOST: '0.0.0.0',
      SUMMIT_PORT: '9090',
      SUMMIT_DATA_DIR: '/var/lib/summit',
      DATABASE_URL: 'postgresql://summit@db:5432/summit',
      SUMMIT_ENV: 'prod',
      SUMMIT_SECRET: SECRET,
      SUMMIT_DEMO_TENANT: 'false',
    });
    expect(config).toMatchObject({
      SUMMIT_HOST: '0.0.0.0',
      SUMMIT_PORT: 9090,
      SUMMIT_DATA_DIR: '/var/lib/summit',
      DATABASE_URL: 'postgresql://summit@db:5432/summit',
      SUMMIT_ENV: 'prod',
      SUMMIT_SECRET: SECRET,
      SUMMIT_DEMO_TENANT: false,
    });
  });

  it('accepts port 0 (pick a free port) and both postgres URL schemes', () => {
    expect(loadConfig({ SUMMIT_PORT: '0' }).SUMMIT_PORT).toBe(0);
    expect(loadConfig({ DATABASE_URL: 'postgres://localhost/x' }).DATABASE_URL).toBe('postgres://localhost/x');
  });

  it('ignores variables it does not know', () => {
    const config = loadConfig({ PATH: '/usr/bin', SUMMIT_UNKNOWN: 'x' }) as Record<string, unknown>;
    expect(config.PATH).toBeUndefined();
    expect(config.SUMMIT_UNKNOWN).toBeUndefined();
  });

  it.each(['abc', '-1', '65536', '80.5', '8080abc'])('refuses SUMMIT_PORT=%s, naming the variable', (port) => {
    const error = configErrorOf({ SUMMIT_PORT: port });
    expect(error.message).toContain('SUMMIT_PORT');
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^SUMMIT_PORT: /);
  });

  it.each(['mysql://localhost/x', 'localhost:5432', 'http://db/x'])('refuses DATABASE_URL=%s, naming the variable', (url) => {
    const error = configErrorOf({ DATABASE_URL: url });
    expect(error.message).toContain('DATABASE_URL');
    expect(error.problems[0]).toContain('postgres:// or postgresql://');
  });

  it('refuses a SUMMIT_SECRET shorter than 32 characters, naming the variable', () => {
    const error = configErrorOf({ SUMMIT_SECRET: 's'.repeat(31) });
    expect(error.message).toContain('SUMMIT_SECRET');
    expect(error.problems[0]).toContain('at least 32 characters');
    expect(loadConfig({ SUMMIT_SECRET: SECRET }).SUMMIT_SECRET).toBe(SECRET);
  });

  it('refuses SUMMIT_ENV=prod without SUMMIT_SECRET, naming SUMMIT_SECRET', () => {
    const error = configErrorOf({ SUMMIT_ENV: 'prod' });
    expect(error.problems).toEqual([expect.stringMatching(/^SUMMIT_SECRET: required when SUMMIT_ENV=prod/)]);
    // An empty secret is unset, so it does not satisfy prod either.
    expect(configErrorOf({ SUMMIT_ENV: 'prod', SUMMIT_SECRET: '' }).message).toContain('SUMMIT_SECRET');
  });

  it('refuses an unknown SUMMIT_ENV, naming the variable', () => {
    expect(configErrorOf({ SUMMIT_ENV: 'staging' }).message).toContain('SUMMIT_ENV');
  });

  it('reports every bad variable at once, one problem each', () => {
    const error = configErrorOf({ SUMMIT_PORT: 'x', DATABASE_URL: 'nope', SUMMIT_SECRET: 'short' });
    expect(error.problems.map((p) => p.split(':')[0]).sort()).toEqual(['DATABASE_URL', 'SUMMIT_PORT', 'SUMMIT_SECRET']);
    expect(error.name).toBe('ConfigError');
  });

  it.each([' ', '0x1f90', '1e3', '80.5', '-1', '65536'])('refuses SUMMIT_PORT=%j rather than guessing a port', (value) => {
    expect(configErrorOf({ SUMMIT_PORT: value }).problems[0]).toMatch(/^SUMMIT_PORT/);
  });

  it('creates the demo tenant by default in dev only', () => {
    expect(loadConfig({}).SUMMIT_DEMO_TENANT).toBe(true);
    expect(loadConfig({ SUMMIT_ENV: 'prod', SUMMIT_SECRET: 'x'.repeat(32) }).SUMMIT_DEMO_TENANT).toBe(false);
    expect(loadConfig({ SUMMIT_ENV: 'prod', SUMMIT_SECRET: 'x'.repeat(32), SUMMIT_DEMO_TENANT: 'true' }).SUMMIT_DEMO_TENANT).toBe(true);
  });
});
