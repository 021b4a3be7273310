import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DemoRecord, TopologyDefinition } from '../dsl/topology-file.ts';
import { runEmbedded } from './run-embedded.ts';
import { servicesCommand } from './services.ts';

const USAGE = `usage:
  tributary run <topology.ts> [--brokers host:port] [--redis url]   run a topology (embedded broker + demo input without --brokers)
  tributary describe <topology.ts> [--mermaid]                      print the topology
  tributary services up|down|status                                 local Kafka and Redis for development`;

interface TopologyModule {
  default?: TopologyDefinition;
  demo?: (() => Iterable<DemoRecord>) | Iterable<DemoRecord>;
}

async function loadTopology(file: string | undefined): Promise<TopologyModule & { default: TopologyDefinition }> {
  if (!file) throw new Error(`name a topology file.\n${USAGE}`);
  const module = (await import(pathToFileURL(resolve(file)).href)) as TopologyModule;
  if (!module.default || typeof module.default.build !== 'function') {
    throw new Error(`${file} does not default-export a topology: write \`export default topology({ applicationId: '...' }, (builder) => { ... })\``);
  }
  return module as TopologyModule & { default: TopologyDefinition };
}

function flag(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'services':
      return servicesCommand(args);
    case 'describe': {
      const module = await loadTopology(args[0]);
      const topology = module.default.build();
      process.stdout.write(args.includes('--mermaid') ? topology.toMermaid() : topology.describe());
      return 0;
    }
    case 'run': {
      const module = await loadTopology(args[0]);
      const brokers = flag(args, '--brokers') ?? process.env.KAFKA_BROKERS;
      if (flag(args, '--brokers') !== undefined) {
        throw new Error('running against a Kafka cluster (--brokers) is not available yet in this version: run without --brokers for the embedded broker');
      }
      void brokers;
      const demo = typeof module.demo === 'function' ? module.demo() : module.demo;
      if (!demo) throw new Error(`${args[0]} exports no \`demo\` input, which the embedded mode feeds: export function* demo() { yield { topic, key, value } }`);
      const config = module.default.config;
      console.log(`tributary: running ${config.applicationId}${config.description ? ` (${config.description})` : ''} on the embedded broker with in-memory state`);
      const summary = await runEmbedded(module.default, demo, (line) => console.log(`  ${line}`));
      const rate = Math.round((summary.inputRecords * 1000) / Math.max(1, summary.elapsedMs));
      console.log(`done: ${summary.inputRecords} records in ${summary.elapsedMs} ms (${rate} records/s)`);
      for (const [topic, count] of Object.entries(summary.outputs)) console.log(`  ${topic}: ${count} records`);
      console.log(`  dead-lettered: ${summary.deadLettered}`);
      return 0;
    }
    default:
      console.log(USAGE);
      return command === undefined || command === '--help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`tributary: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
