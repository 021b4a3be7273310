import { parseArgs } from 'node:util';
import { ModelRegistry } from '../ml/registry.ts';
import { ModelHttpServer } from '../serving/http-server.ts';
import { ModelKafkaServer, defaultBrokers } from '../serving/kafka-server.ts';
import { ModelPool } from '../serving/model-pool.ts';

export const SERVE_USAGE = `tributary serve <models-folder> [options]
  --http <port>               serve TensorFlow-Serving-style REST on this port (0: any free port)
  --host <address>            the address the HTTP server binds (default 127.0.0.1; 0.0.0.0 for every interface)
  --kafka                     serve Kafka request/reply (at least one of --http and --kafka)
  --brokers <host:port,...>   Kafka bootstrap servers for --kafka (default: KAFKA_BROKERS, or the local services)
  --group <id>                the consumer group of the Kafka server (default tributary-model-server)
  --request-topic <pattern>   request topic per model, {model} replaced by its name`;

/** What `tributary serve` was asked to do. */
export interface ServeSettings {
  folder: string;
  kafka: boolean;
  port: number | undefined;
  brokers: string[] | undefined;
  groupId: string;
  requestTopic: string | undefined;
  host: string | undefined;
}

/** `tributary serve` settings; throws a message naming the bad flag. */
export function parseServeArgs(args: string[]): ServeSettings {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        kafka: { type: 'boolean' },
        http: { type: 'string' },
        host: { type: 'string' },
        brokers: { type: 'string' },
        group: { type: 'string' },
        'request-topic': { type: 'string' },
      },
    });
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${SERVE_USAGE}`);
  }
  const { values, positionals } = parsed;
  const folder = positionals[0];
  if (folder === undefined) throw new Error(`name a models folder.\n${SERVE_USAGE}`);
  if (positionals.length > 1) throw new Error(`one models folder at a time, got ${positionals.join(' ')}`);
  const kafka = values.kafka ?? false;
  if (!kafka && values.http === undefined) throw new Error(`choose at least one listener: --kafka and/or --http <port>.\n${SERVE_USAGE}`);
  const port = values.http === undefined ? undefined : Number(values.http);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) throw new Error(`--http needs a port number, got '${values.http}'`);
  return {
    folder,
    kafka,
    port,
    brokers: values.brokers === undefined ? undefined : values.brokers.split(',').filter((b) => b.length > 0),
    groupId: values.group ?? 'tributary-model-server',
    // `{model}` in the pattern becomes each model's name: lets several servers (or benchmarks) use their own topics.
    requestTopic: values['request-topic'],
    host: values.host,
  };
}

/** Where the dashboard lists `tributary bench` results from: `TRIBUTARY_BENCH_RESULTS`, else `bench/results`. */
function benchResults(): { dashboard?: { benchDir: string } } {
  const dir = process.env.TRIBUTARY_BENCH_RESULTS;
  return dir === undefined || dir === '' ? {} : { dashboard: { benchDir: dir } };
}

/** `tributary serve`: serves every model of a registry folder over Kafka and/or HTTP until SIGINT or SIGTERM. */
export async function serveCommand(settings: ServeSettings): Promise<number> {
  const { folder, kafka, port, host, groupId, requestTopic } = settings;
  const brokers = settings.brokers ?? defaultBrokers();

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
      const server = await ModelHttpServer.start(pool, { port, ...(host === undefined ? {} : { host }), ...benchResults() });
      closers.push(() => server.close());
      console.log(`tributary serve: http listening on ${server.url}${server.address === '0.0.0.0' || server.address === '::' ? ` (bound to ${server.address}: every interface)` : ''} (POST /v1/models/<name>[/versions/<v>]:predict, /healthz, /metrics; dashboard at ${server.url}/)`);
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
