#!/usr/bin/env node
// Runs the compiled CLI (dist/cli/main.js). In a checkout, `node --conditions=tributary-source
// bin/tributary.js` (what `npm start`, `npm run cli` and the tests use) runs src/cli/main.ts
// instead, through tsx, so that a change to the sources needs no build. Users' `.ts` topology files
// are loaded with tsx in both cases (see loadTypeScript in src/cli/cli.ts); the library itself
// never needs it.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const entry = import.meta.resolve('#cli');
if (!existsSync(fileURLToPath(entry))) {
  console.error(`tributary: ${fileURLToPath(entry)} is missing; build the package first (npm run build)`);
  process.exit(1);
}
if (entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
} else {
  warnIfStale(fileURLToPath(new URL('../', import.meta.url)), fileURLToPath(entry));
}
await import(entry);

/** In a checkout (tsconfig.build.json is never in the package), says when src/ changed after the last build. */
function warnIfStale(root, built) {
  if (!existsSync(join(root, 'tsconfig.build.json')) || !existsSync(join(root, 'src'))) return;
  const newest = (dir) => readdirSync(dir, { withFileTypes: true }).reduce((max, e) => Math.max(max, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0);
  if (newest(join(root, 'src')) > statSync(built).mtimeMs) {
    console.error('tributary: src/ changed after the last build of dist/: `npm run build`, or run the sources with `npm run cli -- <command> ...`');
  }
}
