/**
 * vitest globalSetup: adds `--conditions=tributary-source` to NODE_OPTIONS, so that the processes
 * tests start (`node bin/tributary.js ...`, `node --import tsx ...`) run the TypeScript sources and
 * resolve `import ... from 'tributary'` to src/index.ts, as vitest itself does: the suite tests the
 * code as it is, not the last build. test/package checks the built package on its own.
 */
export default function setup(): void {
  if (!(process.env.NODE_OPTIONS ?? '').includes('--conditions=tributary-source')) {
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --conditions=tributary-source`.trim();
  }
}
