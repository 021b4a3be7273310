import { Counter } from 'prom-client';
import { modelMetrics } from '../ml/metrics.ts';

/** Requests answered by a model server, by transport, model and outcome (`ok`, `error`). */
export const servingRequests = new Counter({
  name: 'tributary_serving_requests_total',
  help: 'Requests answered by the model server, by transport, model and outcome',
  labelNames: ['transport', 'model', 'outcome'] as const,
  registers: [modelMetrics],
});

/** Kafka requests that could not be answered (no reply-to header) and went to the server's dead-letter topic. */
export const servingDeadLetters = new Counter({
  name: 'tributary_serving_dead_letters_total',
  help: 'Kafka requests without a reply-to header, written to the server dead-letter topic',
  registers: [modelMetrics],
});

/** Remote-model requests sent again after a timeout or a transport error, by transport. */
export const remoteRetries = new Counter({
  name: 'tributary_remote_model_retries_total',
  help: 'Remote model requests sent again after a timeout or a transport error',
  labelNames: ['transport', 'model'] as const,
  registers: [modelMetrics],
});

/** Replies a Kafka remote model received for a request already answered (at-least-once duplicates). */
export const remoteDuplicates = new Counter({
  name: 'tributary_remote_model_duplicate_replies_total',
  help: 'Replies received for a request that was already answered, ignored',
  labelNames: ['model'] as const,
  registers: [modelMetrics],
});
