/**
 * Local development services: a single-node Apache Kafka broker in KRaft mode and a Redis server,
 * both on loopback. Used by `tributary services up|down|status` and by the vitest global setup.
 *
 * Kafka is fetched once from Maven Central with the machine's Maven into the cache folder
 * (`$TRIBUTARY_CACHE`, else `~/.cache/tributary`) and run with the machine's Java. Redis is the
 * machine's `redis-server`. What `up` starts is recorded in pid files, and `down` stops only that.
 */
export { KAFKA_CONTROLLER_PORT, KAFKA_PORT, KAFKA_VERSION, REDIS_PORT, ServicesError } from './common.ts';
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
export { servicesCommand } from './command.ts';
