import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseRunArgs, runTopology, type TopologyModule } from './run.ts';
import { benchCommand } from './bench.ts';
import { servicesCommand } from './services.ts';
import { serveCommand } from './serve.ts';

const USAGE = `usage:
  tributary run <topology.ts> [--brokers host:port] [--redis url] [--application-id id] [--guarantee g] [--metrics-port n] [--follow]
                                                                    run a topology (embedded broker + demo input without --brokers)
  tributary describe <topology.ts> [--mermaid]                      print the topology
  tributary serve <models-folder> [--kafka] [--http <port>] [--brokers host:port] [--group id]   serve a model registry
  tributary services up|down|status                                 local Kafka and Redis for development
  tributary bench [name] [args...]                                  run bench/<name>.ts (no name: list them)`;

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

async function loadTopology(file: string | undefined): Promise<TopologyModule> {
  if (!file) throw new Error(`name a topology file.\n${USAGE}`);
  await loadTypeScript();
  const module = (await import(pathToFileURL(resolve(file)).href)) as Partial<TopologyModule>;
  if (!module.default || typeof module.default.build !== 'function') {
    throw new Error(`${file} does not default-export a topology: write \`export default topology({ applicationId: '...' }, (builder) => { ... })\``);
  }
  return module as TopologyModule;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'services':
      return servicesCommand(args);
    case 'serve':
      return serveCommand(args);
    case 'bench':
      return benchCommand(args);
    case 'describe': {
      const module = await loadTopology(args[0]);
      const topology = module.default.build();
      process.stdout.write(args.includes('--mermaid') ? topology.toMermaid() : topology.describe());
      return 0;
    }
    case 'run': {
      const settings = parseRunArgs(args);
      const module = await loadTopology(settings.file);
      return runTopology(module, settings);
    }
    default:
      console.log(USAGE);
      return command === undefined || command === '--help' ? 0 : 2;
  }
}

/**
 * Once a command is done the process exits, even if a client library left a socket or a retry
 * timer behind (kafkajs after a broker restart did: SIGTERM printed "stopped after ..." and the
 * process lived on). The grace period lets stdout drain; a clean exit happens before it.
 */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2_000).unref();
}

main(process.argv.slice(2)).then(
  (code) => exitSoon(code),
  (error: unknown) => {
    console.error(`tributary: ${error instanceof Error ? error.message : String(error)}`);
    exitSoon(1);
  },
);
