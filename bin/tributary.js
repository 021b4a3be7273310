#!/usr/bin/env node
// Runs the compiled CLI (dist/cli/main.js). In a checkout, `node --conditions=tributary-source
// bin/tributary.js` (what `npm start` and the tests use) runs src/cli/main.ts instead, through
// tsx, so that a change to the sources needs no build. Users' `.ts` topology files are loaded with
// tsx in both cases (see loadTopology in src/cli/main.ts); the library itself never needs it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = import.meta.resolve('#cli');
if (!existsSync(fileURLToPath(entry))) {
  console.error(`tributary: ${fileURLToPath(entry)} is missing; build the package first (npm run build)`);
  process.exit(1);
}
if (entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(entry);
