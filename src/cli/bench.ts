import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../bench');

/** The benchmark names: the `.ts` files directly in bench/ (helpers live in bench/lib/). */
export function benchNames(dir = BENCH_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => entry.name.slice(0, -'.ts'.length))
    .sort();
}

/**
 * `tributary bench [name] [args...]`: runs `bench/<name>.ts` in a child process (with tsx, as
 * bin/tributary.js loads TypeScript) from the project folder, passing the remaining arguments;
 * without a name, lists the benchmarks. Resolves to the benchmark's exit code.
 */
export async function benchCommand(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  const names = benchNames();
  if (name === undefined || name === '--help' || name === '--list') {
    console.log(`usage: tributary bench <name> [args...]\nbenchmarks (bench/<name>.ts): ${names.join(', ') || 'none'}`);
    return 0;
  }
  if (!names.includes(name)) throw new Error(`no benchmark named '${name}': choose one of ${names.join(', ')}`);
  const child = spawn(process.execPath, ['--import', 'tsx', join(BENCH_DIR, `${name}.ts`), ...rest], { cwd: dirname(BENCH_DIR), stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    return await new Promise<number>((done, fail) => {
      child.on('error', fail);
      child.on('exit', (code, signal) => done(code ?? 128 + (signal ? constants.signals[signal] : 0)));
    });
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
}
