import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Topology } from '../topology/topology.ts';
import { parseRunArgs, RUN_USAGE, runTopology, type TopologyModule } from './run.ts';
import { benchCommand, benchNames } from './bench.ts';
import { runProcesses } from './processes.ts';
import { checkServicesArgs, servicesCommand, SERVICES_USAGE } from './services/index.ts';
import { parseServeArgs, SERVE_USAGE, serveCommand } from './serve.ts';

const DESCRIBE_USAGE = `tributary describe <topology.ts> [options]
  --mermaid                   a Mermaid diagram instead of Kafka Streams' text format`;

const BENCH_USAGE = `tributary bench [name] [args...]
  runs bench/<name>.ts of a checkout with the arguments that follow; without a name, lists them`;

const USAGE = `usage: tributary <command> [options]     (tributary <command> --help: one command's usage)

${RUN_USAGE}

${DESCRIBE_USAGE}

${SERVE_USAGE}

${SERVICES_USAGE.replace(/^Usage: /, '').trimEnd()}

${BENCH_USAGE}

tributary --help, -h          this text
tributary --version, -v       the package version`;

const COMMAND_USAGE: Record<string, string> = {
  run: RUN_USAGE,
  describe: DESCRIBE_USAGE,
  serve: SERVE_USAGE,
  services: SERVICES_USAGE.trimEnd(),
  bench: BENCH_USAGE,
};

/** A command line that cannot work as written: exit code 2, as for an unknown command. */
export class UsageError extends Error {}

function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    // node:util's parseArgs adds advice on positionals that start with '-', which none of ours do.
    throw new UsageError((error instanceof Error ? error.message : String(error)).replace(/ To specify a positional argument starting with a '-'[^\n]*/, ''));
  }
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function parseDescribeArgs(args: string[]): { file: string; mermaid: boolean } {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: { mermaid: { type: 'boolean' } } });
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${DESCRIBE_USAGE}`);
  }
  const { values, positionals } = parsed;
  const file = positionals[0];
  if (!file) throw new Error(`name a topology file.\n${DESCRIBE_USAGE}`);
  if (positionals.length > 1) throw new Error(`one topology file at a time, got ${positionals.join(' ')}`);
  return { file, mermaid: values.mermaid ?? false };
}

/**
 * Where in the topology file an error was thrown, from its stack (tsx maps it to the .ts lines):
 * `file:line:column`, or the file alone when the stack does not pass through it.
 */
function locate(error: unknown, file: string): string {
  const path = resolve(file);
  const stack = error instanceof Error ? (error.stack ?? '') : '';
  for (const line of stack.split('\n')) {
    const at = line.replace(pathToFileURL(path).href, path);
    const index = at.indexOf(`${path}:`);
    if (index < 0) continue;
    const position = /^:(\d+):(\d+)/.exec(at.slice(index + path.length));
    if (position) return `${file}:${position[1]}:${position[2]}`;
  }
  return file;
}

function located(error: unknown, file: string, what: string): Error {
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`${locate(error, file)}: ${what}: ${message}`, { cause: error });
}

let typeScriptLoader: Promise<void> | undefined;

/**
 * Lets `import()` load users' TypeScript topology files without a build step. Run from the sources
 * (`--conditions=tributary-source`), the CLI itself is TypeScript and bin/tributary.js has already
 * registered tsx; run from dist, it registers it here, once, and only to load the topology file.
 */
function loadTypeScript(): Promise<void> {
  if (import.meta.url.endsWith('.ts')) return Promise.resolve();
  typeScriptLoader ??= import('tsx/esm/api').then(({ register }) => {
    register();
  });
  return typeScriptLoader;
}

/** Imports a topology file; its `build()` reports errors at their line in the file. */
async function loadTopology(file: string): Promise<TopologyModule> {
  if (!existsSync(resolve(file))) throw new Error(`file not found: ${file}`);
  await loadTypeScript();
  let module: Partial<TopologyModule>;
  try {
    module = (await import(pathToFileURL(resolve(file)).href)) as Partial<TopologyModule>;
  } catch (error) {
    throw located(error, file, 'the topology file failed to load');
  }
  const definition = module.default;
  if (!definition || typeof definition.build !== 'function') {
    throw new Error(`${file} does not default-export a topology: write \`export default topology({ applicationId: '...' }, (builder) => { ... })\``);
  }
  const build = (): Topology => {
    try {
      return definition.build();
    } catch (error) {
      throw located(error, file, 'the topology failed to build');
    }
  };
  return { ...module, default: { config: definition.config, build } } as TopologyModule;
}

/**
 * Checks a `tributary` command line as `main` would read it, without running anything: the command,
 * its flags and their values, and that the files and folders it names exist (relative to the
 * working directory). Throws a `UsageError` saying what is wrong. test/docs checks the command
 * lines of the documentation with it.
 */
export function checkCommandLine(argv: string[]): void {
  const [command, ...args] = argv;
  if (command === undefined || ['--help', '-h', 'help', '--version', '-v'].includes(command)) return;
  if (COMMAND_USAGE[command] === undefined) throw new UsageError(`unknown command '${command}'`);
  const helpArgs = command === 'bench' ? args.slice(0, 1) : args;
  if (helpArgs.includes('--help') || helpArgs.includes('-h')) return;
  const exists = (path: string, what: string): void => {
    if (!existsSync(resolve(path))) throw new UsageError(`${what} not found: ${path}`);
  };
  switch (command) {
    case 'services':
      usage(() => checkServicesArgs(args));
      return;
    case 'serve':
      exists(usage(() => parseServeArgs(args)).folder, 'models folder');
      return;
    case 'bench': {
      const name = args[0];
      if (name !== undefined && name !== '--list' && !benchNames().includes(name)) throw new UsageError(`no benchmark named '${name}': choose one of ${benchNames().join(', ')}`);
      return;
    }
    case 'describe':
      exists(usage(() => parseDescribeArgs(args)).file, 'file');
      return;
    default:
      exists(usage(() => parseRunArgs(args, {})).file, 'file');
  }
}

/** Runs one `tributary` command line; resolves to the exit code, or rejects (see `exitCode`). */
export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (command === '--version' || command === '-v') {
    console.log(version());
    return 0;
  }
  const commandUsage = COMMAND_USAGE[command];
  if (commandUsage === undefined) {
    console.error(`tributary: unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  // A benchmark gets the arguments after its name, --help among them.
  const helpArgs = command === 'bench' ? args.slice(0, 1) : args;
  if (helpArgs.includes('--help') || helpArgs.includes('-h')) {
    console.log(commandUsage);
    return 0;
  }
  switch (command) {
    case 'services':
      return servicesCommand(args);
    case 'serve':
      return serveCommand(usage(() => parseServeArgs(args)));
    case 'bench':
      return benchCommand(args);
    case 'describe': {
      const settings = usage(() => parseDescribeArgs(args));
      const topology = (await loadTopology(settings.file)).default.build();
      process.stdout.write(settings.mermaid ? topology.toMermaid() : topology.describe());
      return 0;
    }
    default: {
      const settings = usage(() => parseRunArgs(args));
      if (settings.processes > 1) {
        if (settings.redis === undefined) refuseInMemoryTaskState((await loadTopology(settings.file)).default.build().stores, settings.processes);
        return runProcesses(args, settings.processes);
      }
      return runTopology(await loadTopology(settings.file), settings);
    }
  }
}

/**
 * `--processes n` without Redis: task state in memory stays in the process that built it, so a task
 * that moves to another process when the processes join and leave the group starts empty there and
 * its counts come out wrong. Global stores are rebuilt in every process and do not count.
 */
function refuseInMemoryTaskState(stores: ReadonlyMap<string, { global?: boolean }>, processes: number): void {
  const taskStores = [...stores].filter(([, spec]) => spec.global !== true).map(([name]) => name);
  if (taskStores.length === 0) return;
  throw new UsageError(
    `--processes ${processes} needs --redis for a topology with state stores (${taskStores.join(', ')}): without Redis a task's state lives in one process's memory, and a task that moves to another process when the group rebalances would start there with empty state`,
  );
}

/** The exit code for an error `main` rejected with: 2 for a command line that cannot work, else 1. */
export function exitCode(error: unknown): number {
  return error instanceof UsageError ? 2 : 1;
}
