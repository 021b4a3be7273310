import { ModelRegistry } from '../ml/registry.ts';
import { ModelHttpServer } from '../serving/http-server.ts';
import { ModelKafkaServer, defaultBrokers } from '../serving/kafka-server.ts';
import { ModelPool } from '../serving/model-pool.ts';

const USAGE = 'usage: tributary serve <models-folder> [--kafka] [--http <port>] [--brokers host:port[,host:port]] [--group id] [--request-topic <pattern>] [--host address]';

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  if (index < 0) return undefined;
  const value = args[index + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value.\n${USAGE}`);
  return value;
}

/** `tributary serve`: serves every model of a registry folder over Kafka and/or HTTP until SIGINT or SIGTERM. */
export async function serveCommand(args: string[]): Promise<number> {
  const folder = args[0];
  if (folder === undefined || folder.startsWith('--')) throw new Error(`name a models folder.\n${USAGE}`);
  const kafka = args.includes('--kafka');
  const httpPort = option(args, '--http');
  if (!kafka && httpPort === undefined) throw new Error(`choose at least one listener: --kafka and/or --http <port>.\n${USAGE}`);
  const port = httpPort === undefined ? undefined : Number(httpPort);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) throw new Error(`--http needs a port number, got '${httpPort}'`);
  const brokersFlag = option(args, '--brokers');
  const brokers = brokersFlag === undefined ? defaultBrokers() : brokersFlag.split(',').filter((b) => b.length > 0);
  const groupId = option(args, '--group') ?? 'tributary-model-server';
  // `{model}` in the pattern becomes each model's name: lets several servers (or benchmarks) use their own topics.
  const requestTopic = option(args, '--request-topic');
  const host = option(args, '--host');

  const registry = await ModelRegistry.open(folder, {
    onError: (error) => console.error(`tributary serve: ${error.message}`),
    onReload: (event) => console.log(`tributary serve: ${event.model} now serves version ${event.to} (was ${event.from ?? 'none'})`),
  });
  if (registry.names().length === 0) {
    await registry.close();
    throw new Error(`no models in ${folder}: expected ${folder}/<name>/<version>/model.onnx and model.json`);
  }
  const pool = new ModelPool(registry);
  const closers: (() => Promise<void>)[] = [];
  const shutdown = async (): Promise<void> => {
    for (const close of closers.reverse()) await close();
    await pool.close();
    await registry.close();
  };
  try {
    const models = registry.names().map((name) => `${name} (${registry.versions(name).join(', ')})`).join(', ');
    console.log(`tributary serve: models ${models} from ${folder}`);
    if (port !== undefined) {
      const server = await ModelHttpServer.start(pool, host === undefined ? { port } : { port, host });
      closers.push(() => server.close());
      console.log(`tributary serve: http listening on ${server.url} (POST /v1/models/<name>[/versions/<v>]:predict, /healthz, /metrics)`);
    }
    if (kafka) {
      const server = await ModelKafkaServer.start(pool, { brokers, groupId, ...(requestTopic === undefined ? {} : { requestTopic: (model: string) => requestTopic.replaceAll('{model}', model) }) });
      closers.push(() => server.close());
      console.log(`tributary serve: kafka group ${groupId} on ${brokers.join(',')} consuming ${[...server.topics.keys()].join(', ')}`);
    }
  } catch (error) {
    await shutdown().catch(() => undefined);
    throw error;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log(`tributary serve: ${signal}, closing`);
  await shutdown();
  console.log('tributary serve: closed');
  return 0;
}
