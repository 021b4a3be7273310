import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The Prometheus metrics of one running application (each `KafkaStreams` has its own registry). */
export class RuntimeMetrics {
  readonly registry = new Registry();
  readonly processed: Counter<'task'>;
  readonly deadLettered: Counter<'task'>;
  readonly replaysSkipped: Counter<'task'>;
  readonly produced: Counter<'topic'>;
  readonly commits: Counter<'outcome'>;
  readonly commitDuration: Histogram<string>;
  readonly lag: Gauge<'topic' | 'partition'>;
  readonly stalled: Gauge<'topic' | 'partition'>;
  readonly tasks: Gauge<string>;
  readonly restoredEntries: Counter<'store'>;
  readonly state: Gauge<'state'>;

  constructor(applicationId: string) {
    this.registry.setDefaultLabels({ application_id: applicationId });
    const registers = [this.registry];
    this.processed = new Counter({ name: 'tributary_records_processed_total', help: 'Records read from source topics and processed', labelNames: ['task'], registers });
    this.deadLettered = new Counter({ name: 'tributary_records_dead_lettered_total', help: 'Records written to the dead-letter topic', labelNames: ['task'], registers });
    this.replaysSkipped = new Counter({
      name: 'tributary_replays_skipped_total',
      help: 'Records read from a repartition topic that this task had already applied (written again by an upstream task after a crash) and skipped',
      labelNames: ['task'],
      registers,
    });
    this.produced = new Counter({ name: 'tributary_records_produced_total', help: 'Records written to output and internal topics', labelNames: ['topic'], registers });
    this.commits = new Counter({ name: 'tributary_commits_total', help: 'Task commits, by outcome (ok, fenced, failed)', labelNames: ['outcome'], registers });
    this.commitDuration = new Histogram({
      name: 'tributary_commit_duration_ms',
      help: 'Time of one commit round: drain, producer flush, state checkpoint, group commit',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500],
      registers,
    });
    this.lag = new Gauge({ name: 'tributary_consumer_lag', help: 'Records between the processed position and the end of a source partition', labelNames: ['topic', 'partition'], registers });
    this.stalled = new Gauge({ name: 'tributary_partition_stalled', help: '1 while a partition\'s lag grows and its position does not move', labelNames: ['topic', 'partition'], registers });
    this.tasks = new Gauge({ name: 'tributary_active_tasks', help: 'Tasks this instance runs', registers });
    this.restoredEntries = new Counter({ name: 'tributary_restored_entries_total', help: 'State entries loaded from the state backend on assignment', labelNames: ['store'], registers });
    this.state = new Gauge({ name: 'tributary_state', help: '1 for the current lifecycle state of the application', labelNames: ['state'], registers });
  }
}

/** Serves `registries` (merged, with `labels` on every series) at `/metrics` on `port`; resolves with the listening server. */
export async function serveMetrics(
  port: number,
  registries: readonly Registry[],
  labels: Record<string, string> = {},
  /** More routes (the interactive-query routes): returns true when it answered the request. */
  routes?: (request: IncomingMessage, response: ServerResponse) => boolean,
): Promise<Server> {
  const server = createServer((request, response) => {
    if (routes?.(request, response)) return;
    if (request.url !== '/metrics') {
      response.writeHead(request.url === '/healthz' ? 200 : 404, { 'content-type': 'text/plain' });
      response.end(request.url === '/healthz' ? 'ok\n' : 'not found: try /metrics\n');
      return;
    }
    const merged = Registry.merge([...registries]);
    merged.setDefaultLabels(labels);
    merged.metrics().then(
      (text) => {
        response.writeHead(200, { 'content-type': merged.contentType });
        response.end(text);
      },
      (error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(String(error));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new Error(error.code === 'EADDRINUSE' ? `metrics port ${port} is already in use: pick another with --metrics-port` : error.message)),
    );
    server.listen(port, resolve);
  });
  return server;
}
