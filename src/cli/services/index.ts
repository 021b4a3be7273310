/**
 * Local development services: a single-node Apache Kafka broker in KRaft mode and a Redis server,
 * both on loopback. Used by `tributary services up|down|status` and by the vitest global setup.
 *
 * Kafka (3.9.x or 4.x) is fetched once per version from Maven Central with the machine's Maven into
 * the cache folder (`$TRIBUTARY_CACHE`, else `~/.cache/tributary`) and run with the machine's Java.
 * Redis is the machine's `redis-server`. What `up` starts is recorded in pid files, and `down` stops
 * only that.
 */
export { DEFAULT_KAFKA_PORT, REDIS_PORT, ServicesError } from './common.ts';
export { DEFAULT_KAFKA_VERSION, SUPPORTED_KAFKA_VERSIONS } from './kafka-release.ts';
export {
  acquireServices,
  servicesDown,
  servicesStatus,
  servicesUp,
  type ServiceEndpoints,
  type ServiceState,
  type ServicesDownOptions,
  type ServicesLease,
  type ServicesStatus,
  type ServicesUpOptions,
  type ServicesUpResult,
} from './lifecycle.ts';
export { checkServicesArgs, SERVICES_USAGE, servicesCommand } from './command.ts';
