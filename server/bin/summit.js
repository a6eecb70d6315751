#!/usr/bin/env node
// The `summit` command runs the compiled CLI; `npm start` (or `npm run build`) compiles it first.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const entry = fileURLToPath(new URL('../dist/summit.js', import.meta.url));
if (!existsSync(entry)) {
  console.error('summit: the server is not built yet. Run `npm run build` (or `npm start`) from the repository root first.');
  process.exit(1);
}
await import(pathToFileURL(entry).href);
