#!/usr/bin/env node
// Loads TypeScript (the CLI and users' topology files) without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
