import { fileURLToPath } from 'node:url';
import path from 'node:path';

/**
 * The server package root, whether running from src/ (tests, tsx) or dist/ (npm start): both sit one level below it,
 * with platform/ one more level down.
 */
export const serverRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const migrationsDir = path.join(serverRoot, 'migrations');
export const policiesDir = path.join(serverRoot, 'policies');
export const defaultAutoReplayPolicy = path.join(serverRoot, '..', 'ops', 'dlq', 'auto_replay.yaml');
