/** `tributary services up|down|status`: the command line over the services' lifecycle. */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HOST, KAFKA_PORT, KAFKA_VERSION, REDIS_PORT } from './common.ts';
import { type ServiceState, servicesStatus, stopManaged, updateAutoStop, upLocked, withLock } from './lifecycle.ts';

const USAGE = `Usage: tributary services <up|down|status>

  up      start Apache Kafka ${KAFKA_VERSION} (KRaft, ${HOST}:${KAFKA_PORT}) and Redis (${HOST}:${REDIS_PORT})
          if they are not already running; fetches Kafka once with Maven into $TRIBUTARY_CACHE
          (default ~/.cache/tributary). Prints KAFKA_BROKERS=... and REDIS_URL=... on stdout.
  down    stop what 'up' started
  status  show what runs (exit code 0 when both answer, 1 otherwise)
`;

function describeState(name: string, s: ServiceState, extra = ''): string {
  const state = s.running ? 'running' : s.managed ? 'not answering' : 'stopped';
  const owner = s.managed ? `started by tributary, pid ${s.pid}` : s.running ? 'not started by tributary' : '';
  return `${name.padEnd(6)} ${state.padEnd(14)} ${s.endpoint.padEnd(24)} ${[extra, owner].filter(Boolean).join('; ')}`;
}

/** `tributary services up|down|status`; resolves to the process exit code. */
export async function servicesCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const quiet = rest.includes('--quiet') || rest.includes('-q');
  try {
    switch (sub) {
      case 'up': {
        const result = await withLock(async () => {
          const up = await upLocked({ quiet });
          // Asked for by hand: what test runs started is now meant to stay up.
          updateAutoStop(() => ({ kafka: false, redis: false }));
          return up;
        });
        process.stdout.write(`KAFKA_BROKERS=${result.brokers.join(',')}\nREDIS_URL=${result.redisUrl}\n`);
        return 0;
      }
      case 'down': {
        const stopped = await withLock(() => stopManaged({}));
        if (!quiet) {
          process.stdout.write(
            `kafka: ${stopped.kafka !== null ? `stopped (pid ${stopped.kafka})` : 'nothing to stop'}\n` +
              `redis: ${stopped.redis !== null ? `stopped (pid ${stopped.redis})` : 'nothing to stop'}\n`,
          );
        }
        return 0;
      }
      case 'status': {
        const s = await servicesStatus();
        process.stdout.write(
          `${describeState('kafka', s.kafka, `Apache Kafka ${s.kafka.version}${s.kafka.installed ? '' : ' (not fetched yet)'}`)}\n` +
            `${describeState('redis', s.redis)}\n` +
            `cache  ${s.cacheDir}\n` +
            `logs   ${s.kafka.logFile}\n       ${s.redis.logFile}\n`,
        );
        return s.kafka.running && s.redis.running ? 0 : 1;
      }
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return 0;
      default:
        process.stderr.write(sub === undefined ? USAGE : `Unknown services command '${sub}'.\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`tributary services ${sub}: ${message}\n`);
    return 1;
  }
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