/** `tributary services up|down|status`: the command line over the services' lifecycle. */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_KAFKA_PORT, HOST, REDIS_PORT, ServicesError } from './common.ts';
import { DEFAULT_KAFKA_VERSION, kafkaRelease, SUPPORTED_KAFKA_VERSIONS } from './kafka-release.ts';
import { type ServiceState, type ServicesUpOptions, servicesStatus, stopManaged, updateAutoStop, upLocked, withLock } from './lifecycle.ts';

export const SERVICES_USAGE = `Usage: tributary services <up|down|status> [--kafka-version <v>] [--kafka-port <n>] [--quiet]

  up      start Apache Kafka (KRaft, ${HOST}:${DEFAULT_KAFKA_PORT}) and Redis (${HOST}:${REDIS_PORT})
          if they are not already running; fetches the Kafka version once with Maven into
          $TRIBUTARY_CACHE (default ~/.cache/tributary). Prints KAFKA_BROKERS=... and REDIS_URL=... on stdout.
  down    stop what 'up' started (every Kafka version and port, and Redis)
  status  show what runs (exit code 0 when both answer, 1 otherwise)

  --kafka-version <v>  the Apache Kafka release (${SUPPORTED_KAFKA_VERSIONS}; default ${DEFAULT_KAFKA_VERSION},
                       or $TRIBUTARY_KAFKA_VERSION). Each version has its own data.
  --kafka-port <n>     Kafka's client port (default ${DEFAULT_KAFKA_PORT}, or $TRIBUTARY_KAFKA_PORT); the
                       controller listens on n + 1.
`;

function describeState(name: string, s: ServiceState, extra = ''): string {
  const state = s.running ? 'running' : s.managed ? 'not answering' : 'stopped';
  const owner = s.managed ? `started by tributary, pid ${s.pid}` : s.running ? 'not started by tributary' : '';
  return `${name.padEnd(6)} ${state.padEnd(14)} ${s.endpoint.padEnd(24)} ${[extra, owner].filter(Boolean).join('; ')}`;
}

function kafkaOptions(values: { 'kafka-version'?: string | undefined; 'kafka-port'?: string | undefined }): ServicesUpOptions {
  const options: ServicesUpOptions = {};
  if (values['kafka-version'] !== undefined) options.kafkaVersion = values['kafka-version'];
  if (values['kafka-port'] !== undefined) {
    const port = Number(values['kafka-port']);
    if (!Number.isInteger(port)) throw new ServicesError(`--kafka-port '${values['kafka-port']}' is not a port number.`);
    options.kafkaPort = port;
  }
  return options;
}

/** `tributary services up|down|status`; resolves to the process exit code. */
export async function servicesCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  let parsed: ReturnType<typeof parseRest>;
  try {
    parsed = parseRest(rest);
  } catch (error) {
    process.stderr.write(`tributary services ${sub ?? ''}: ${(error as Error).message}\n\n${SERVICES_USAGE}`);
    return 2;
  }
  const quiet = parsed.quiet === true;
  if (parsed.help) {
    process.stdout.write(SERVICES_USAGE);
    return 0;
  }
  try {
    const options = kafkaOptions(parsed);
    switch (sub) {
      case 'up': {
        const result = await withLock(async () => {
          const up = await upLocked({ ...options, quiet });
          // Asked for by hand: what test runs started is now meant to stay up.
          updateAutoStop(() => ({ kafka: [], redis: false }));
          return up;
        });
        process.stdout.write(`KAFKA_BROKERS=${result.brokers.join(',')}\nREDIS_URL=${result.redisUrl}\n`);
        return 0;
      }
      case 'down': {
        const stopped = await withLock(() => stopManaged({ kafka: 'all', redis: true }));
        if (!quiet) {
          const kafka = stopped.kafka.map((k) => `stopped Apache Kafka ${k.version} on ${HOST}:${k.port} (pid ${k.pid})`);
          process.stdout.write(
            `kafka: ${kafka.length > 0 ? kafka.join(', ') : 'nothing to stop'}\n` +
              `redis: ${stopped.redis !== null ? `stopped (pid ${stopped.redis})` : 'nothing to stop'}\n`,
          );
        }
        return 0;
      }
      case 'status': {
        const s = await servicesStatus(options);
        const version = s.kafka.version === null ? 'version unknown' : `Apache Kafka ${s.kafka.version}${s.kafka.installed ? '' : ' (not fetched yet)'}`;
        const others = s.kafkaInstances
          .filter((i) => `${HOST}:${i.port}` !== s.kafka.endpoint)
          .map((i) =>
            describeState('kafka', { running: true, managed: true, pid: i.pid, endpoint: `${HOST}:${i.port}`, logFile: i.logFile }, `Apache Kafka ${i.version}`),
          );
        process.stdout.write(
          [
            describeState('kafka', s.kafka, version),
            ...others,
            describeState('redis', s.redis),
            `cache  ${s.cacheDir}`,
            `logs   ${s.kafka.logFile}`,
            `       ${s.redis.logFile}`,
            '',
          ].join('\n'),
        );
        return s.kafka.running && s.redis.running ? 0 : 1;
      }
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(SERVICES_USAGE);
        return 0;
      default:
        process.stderr.write(sub === undefined ? SERVICES_USAGE : `Unknown services command '${sub}'.\n\n${SERVICES_USAGE}`);
        return 2;
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`tributary services ${sub}: ${message}\n`);
    return 1;
  }
}

/**
 * Checks a `services` command line without running it (test/docs checks the docs' command lines
 * with it): the subcommand, the flags and their values. Throws a message naming what is wrong.
 */
export function checkServicesArgs(args: string[]): void {
  const [sub, ...rest] = args;
  const values = parseRest(rest);
  if (values.help === true || sub === 'help' || sub === '--help' || sub === '-h') return;
  if (sub !== 'up' && sub !== 'down' && sub !== 'status') throw new ServicesError(sub === undefined ? 'name a services command: up, down or status' : `Unknown services command '${sub}'.`);
  kafkaOptions(values);
  if (values['kafka-version'] !== undefined) kafkaRelease(values['kafka-version']);
}

function parseRest(rest: string[]) {
  return parseArgs({
    args: rest,
    options: {
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
      'kafka-version': { type: 'string' },
      'kafka-port': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

// `tsx src/cli/services/command.ts up|down|status` works on its own too.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  servicesCommand(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
