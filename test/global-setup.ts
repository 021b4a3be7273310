/**
 * vitest globalSetup: makes sure the tests have a Kafka broker and a Redis server.
 *
 * When KAFKA_BROKERS / REDIS_URL are set, they are used as they are. Otherwise the local services
 * are brought up (as `tributary services up` does, reusing ones that already answer; the default
 * Kafka version unless TRIBUTARY_KAFKA_VERSION / TRIBUTARY_KAFKA_PORT say otherwise) and the
 * variables are set here, before the forked test workers start, so that they inherit them.
 *
 * Teardown stops only what test setups started, and only when no other test run on this machine
 * still uses it (a lease per run, see acquireServices). Services started with
 * `tributary services up` are left running, and so is everything when TRIBUTARY_KEEP_SERVICES=1.
 *
 * It also makes the processes tests start run the sources (./source-setup.ts).
 */
import { acquireServices } from '../src/cli/services/index.ts';
import runSources from './source-setup.ts';

export default async function setup(): Promise<() => Promise<void>> {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  runSources();
  const needKafka = !process.env.KAFKA_BROKERS;
  const needRedis = !process.env.REDIS_URL;
  if (!needKafka && !needRedis) return async () => undefined;

  const lease = await acquireServices({ quiet: true, kafka: needKafka, redis: needRedis });
  if (needKafka) process.env.KAFKA_BROKERS = lease.brokers.join(',');
  if (needRedis) process.env.REDIS_URL = lease.redisUrl;

  return async () => {
    await lease.release({ keep: process.env.TRIBUTARY_KEEP_SERVICES === '1' });
  };
}
