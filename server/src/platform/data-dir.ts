import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, chmodSync } from 'node:fs';
import path from 'node:path';

export class DataDirInUseError extends Error {
  constructor(dataDir: string, pid: number) {
    super(
      `The data dir ${dataDir} is in use by a running Summit process (pid ${pid}). ` +
        'The embedded store can be opened by one process at a time: stop that process, or act through its HTTP API ' +
        '(for example POST /api/v1/tenants with the operator token).',
    );
    this.name = 'DataDirInUseError';
  }
}

/** Creates the data dir if needed and keeps it private (0700): it holds the store, the secret and tokens. */
export function ensureDir(dir: string): string {
  const absolute = path.resolve(dir);
  mkdirSync(absolute, { recursive: true, mode: 0o700 });
  chmodSync(absolute, 0o700);
  return absolute;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the embedded store's lock: a file created exclusively holding our pid. A lock left by a dead process is
 * taken over. Returns a release function.
 */
export function lockDataDir(dataDir: string): () => void {
  const lockPath = path.join(dataDir, 'summit.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(lockPath, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new DataDirInUseError(dataDir, holder);
      }
      rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`Could not lock ${dataDir}`);
}

/** Reads a secret file, or creates it (mode 0600) with a fresh value. Returns the value and whether it was created. */
export function readOrCreateSecretFile(filePath: string, generate: () => string): { value: string; created: boolean } {
  try {
    return { value: readFileSync(filePath, 'utf8').trim(), created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const value = generate();
  writeSecretFile(filePath, value);
  return { value, created: true };
}

export function writeSecretFile(filePath: string, value: string): void {
  writeFileSync(filePath, `${value}\n`, { mode: 0o600 });
  chmodSync(filePath, 0o600);
}
