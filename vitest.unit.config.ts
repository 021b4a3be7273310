import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/** The suites that need a Kafka broker, a Redis server (or Java to start them): left out of `npm run test:unit`. */
export const needServices = [
  'test/integration/**',
  'test/faults/**',
  'test/bench/**',
  'test/compat/**',
  'test/state/redis-backend.test.ts',
  'test/state/redis-versioned.test.ts',
  'test/serving/kafka-server.test.ts',
  'test/serving/remote-model.test.ts',
  'test/transport/kafka-transport.test.ts',
];

/** `npm run test:unit`: everything else, with no services started. */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    exclude: [...configDefaults.exclude, ...needServices],
    globalSetup: ['test/source-setup.ts'],
  },
});
