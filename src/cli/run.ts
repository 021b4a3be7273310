import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import type { DemoRecord, TopologyDefinition } from '../dsl/topology-file.ts';
import { startDashboard, type Dashboard } from '../dashboard/index.ts';
import { serveMetrics } from '../metrics/runtime-metrics.ts';
import { modelMetrics } from '../ml/metrics.ts';
import { KafkaStreams, type RuntimeSnapshot } from '../runtime/kafka-streams.ts';
import { queryRoutes } from '../runtime/query-server.ts';
import type { Serde } from '../serdes/serde.ts';
import type { RestoreProgress } from '../state/backend.ts';
import type { SourceNode } from '../topology/nodes.ts';
import type { Topology } from '../topology/topology.ts';
import type { InMemoryBroker } from '../transport/memory-broker.ts';

export const RUN_USAGE = `tributary run <topology.ts> [options]
  --brokers <host:port,...>   Kafka bootstrap servers (env TRIBUTARY_BROKERS); without it: the embedded broker and the file's demo input
  --redis <url>               Redis for state and checkpoints (env TRIBUTARY_REDIS); without it: in-memory state
  --application-id <id>       overrides the file's applicationId (env TRIBUTARY_APPLICATION_ID)
  --guarantee <g>             at-least-once (default) or exactly-once (Kafka transactions) (env TRIBUTARY_GUARANTEE)
  --metrics-port <port>       serve Prometheus metrics at /metrics, the live dashboard at / and interactive queries at /stores/... (env TRIBUTARY_METRICS_PORT)
  --advertised-url <url>      where this instance answers queries, e.g. http://10.0.0.5:9464 (application.server; env TRIBUTARY_ADVERTISED_URL; needs --metrics-port, --redis, --brokers)
  --commit-interval <ms>      how often state and offsets are committed (env TRIBUTARY_COMMIT_INTERVAL_MS, default 1000)
  --redis-outage-timeout <ms> how long commits retry while Redis is unreachable before the runner stops (env TRIBUTARY_REDIS_OUTAGE_TIMEOUT_MS, default 60000)
  --cache-max-entries <n>     table updates merged per key until each commit, per task (env TRIBUTARY_CACHE_MAX_ENTRIES, default 10000; 0: every update is sent)
  --repartition-purge-interval <ms>
                              how often committed records are deleted from the repartition topics (env TRIBUTARY_REPARTITION_PURGE_INTERVAL_MS, default 30000)
  --producer-lanes <n>        idempotent producers sharing the output partitions, one request in flight each (env TRIBUTARY_PRODUCER_LANES, default 2)
  --max-record-bytes <n>      larger output records go to the dead-letter topic (env TRIBUTARY_MAX_RECORD_BYTES, default 1048076: the broker's default limit)
  --processes <n>             run n processes in one consumer group, to use n cores (env TRIBUTARY_PROCESSES, default 1; needs --brokers)
  --create-topics             create missing input/output topics (development)
  --fail-on-dead-letter       stop and exit 1 at the first dead-lettered record, showing why (env TRIBUTARY_FAIL_ON_DEAD_LETTER=1)
  --fail-on-stall             stop with an error when a partition's lag grows while its position stands still (env TRIBUTARY_FAIL_ON_STALL=1); without it the watchdog only warns
  --watchdog-interval <ms>    how often the watchdog checks lag (env TRIBUTARY_WATCHDOG_INTERVAL_MS, default 10000)
  --follow                    embedded mode: keep running after the demo input until Ctrl-C
  --quiet                     no progress lines`;

/** The runner's settings, from flags first, then environment variables. */
export interface RunSettings {
  file: string;
  brokers: string[] | undefined;
  redis: string | undefined;
  applicationId: string | undefined;
  guarantee: 'at-least-once' | 'exactly-once';
  metricsPort: number | undefined;
  /** Kafka Streams' application.server: published with this instance's tasks for remote queries. */
  advertisedUrl: string | undefined;
  commitIntervalMs: number | undefined;
  maxRecordBytes: number | undefined;
  cacheMaxEntries: number | undefined;
  repartitionPurgeIntervalMs: number | undefined;
  producerLanes: number | undefined;
  /** Runner processes in one group (`--processes`); 1 runs here. */
  processes: number;
  redisOutageTimeoutMs: number | undefined;
  createTopics: boolean;
  /** Stop and exit 1 at the first record the error policy dead-letters. */
  failOnDeadLetter: boolean;
  /** The liveness watchdog: fail (not only warn) on a stalled partition, and how often it checks. */
  failOnStall: boolean;
  watchdogIntervalMs: number | undefined;
  /** Consumer group session timeout and heartbeat (env TRIBUTARY_SESSION_TIMEOUT_MS, TRIBUTARY_HEARTBEAT_MS). */
  sessionTimeoutMs: number | undefined;
  heartbeatIntervalMs: number | undefined;
  follow: boolean;
  quiet: boolean;
}

/** Parses `tributary run` arguments; throws a message naming the bad flag. */
export function parseRunArgs(args: string[], env: NodeJS.ProcessEnv = process.env): RunSettings {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        brokers: { type: 'string' },
        redis: { type: 'string' },
        'application-id': { type: 'string' },
        guarantee: { type: 'string' },
        'metrics-port': { type: 'string' },
        'advertised-url': { type: 'string' },
        'commit-interval': { type: 'string' },
        'max-record-bytes': { type: 'string' },
        'cache-max-entries': { type: 'string' },
        'repartition-purge-interval': { type: 'string' },
        'producer-lanes': { type: 'string' },
        processes: { type: 'string' },
        'redis-outage-timeout': { type: 'string' },
        'create-topics': { type: 'boolean' },
        'fail-on-stall': { type: 'boolean' },
        'fail-on-dead-letter': { type: 'boolean' },
        'watchdog-interval': { type: 'string' },
        follow: { type: 'boolean' },
        quiet: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${RUN_USAGE}`);
  }
  const { values, positionals } = parsed;
  const file = positionals[0];
  if (!file) throw new Error(`name a topology file.\n${RUN_USAGE}`);
  if (positionals.length > 1) throw new Error(`one topology file at a time, got ${positionals.join(' ')}`);
  const brokersText = values.brokers ?? env.TRIBUTARY_BROKERS;
  const guarantee = values.guarantee ?? env.TRIBUTARY_GUARANTEE ?? 'at-least-once';
  if (guarantee !== 'at-least-once' && guarantee !== 'exactly-once') throw new Error(`--guarantee must be at-least-once or exactly-once, got '${guarantee}'`);
  const advertisedUrl = values['advertised-url'] ?? env.TRIBUTARY_ADVERTISED_URL;
  if (advertisedUrl !== undefined) {
    if ((values['metrics-port'] ?? env.TRIBUTARY_METRICS_PORT) === undefined) throw new Error('--advertised-url needs --metrics-port: the queries are answered on the metrics server');
    if (!brokersText || !(values.redis ?? env.TRIBUTARY_REDIS)) throw new Error('--advertised-url needs --brokers and --redis: instances publish their tasks in Redis and share them through the Kafka group');
    if ((values.processes ?? env.TRIBUTARY_PROCESSES ?? '1') !== '1') throw new Error('--advertised-url names one process: run one runner per URL instead of --processes');
  }
  return {
    advertisedUrl,
    file,
    brokers: brokersText ? brokersText.split(',').map((b) => b.trim()).filter(Boolean) : undefined,
    redis: values.redis ?? env.TRIBUTARY_REDIS,
    applicationId: values['application-id'] ?? env.TRIBUTARY_APPLICATION_ID,
    guarantee,
    metricsPort: integer(values['metrics-port'] ?? env.TRIBUTARY_METRICS_PORT, '--metrics-port'),
    commitIntervalMs: integer(values['commit-interval'] ?? env.TRIBUTARY_COMMIT_INTERVAL_MS, '--commit-interval'),
    maxRecordBytes: integer(values['max-record-bytes'] ?? env.TRIBUTARY_MAX_RECORD_BYTES, '--max-record-bytes'),
    cacheMaxEntries: integer(values['cache-max-entries'] ?? env.TRIBUTARY_CACHE_MAX_ENTRIES, '--cache-max-entries'),
    repartitionPurgeIntervalMs: integer(values['repartition-purge-interval'] ?? env.TRIBUTARY_REPARTITION_PURGE_INTERVAL_MS, '--repartition-purge-interval'),
    producerLanes: integer(values['producer-lanes'] ?? env.TRIBUTARY_PRODUCER_LANES, '--producer-lanes'),
    processes: processCount(values.processes ?? env.TRIBUTARY_PROCESSES, brokersText !== undefined),
    redisOutageTimeoutMs: integer(values['redis-outage-timeout'] ?? env.TRIBUTARY_REDIS_OUTAGE_TIMEOUT_MS, '--redis-outage-timeout'),
    createTopics: values['create-topics'] ?? false,
    failOnStall: values['fail-on-stall'] ?? ['1', 'true'].includes(env.TRIBUTARY_FAIL_ON_STALL ?? ''),
    failOnDeadLetter: values['fail-on-dead-letter'] ?? ['1', 'true'].includes(env.TRIBUTARY_FAIL_ON_DEAD_LETTER ?? ''),
    watchdogIntervalMs: integer(values['watchdog-interval'] ?? env.TRIBUTARY_WATCHDOG_INTERVAL_MS, '--watchdog-interval'),
    sessionTimeoutMs: integer(env.TRIBUTARY_SESSION_TIMEOUT_MS, 'TRIBUTARY_SESSION_TIMEOUT_MS'),
    heartbeatIntervalMs: integer(env.TRIBUTARY_HEARTBEAT_MS, 'TRIBUTARY_HEARTBEAT_MS'),
    follow: values.follow ?? false,
    quiet: values.quiet ?? false,
  };
}

function processCount(text: string | undefined, onKafka: boolean): number {
  const count = integer(text, '--processes') ?? 1;
  if (count < 1) throw new Error(`--processes must be at least 1, got '${text}'`);
  if (count > 1 && !onKafka) throw new Error('--processes needs --brokers: processes share partitions through a Kafka consumer group (the embedded broker lives in one process)');
  return count;
}

function integer(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${flag} must be a non-negative integer, got '${text}'`);
  return value;
}

/** What the topology file exports. */
export interface TopologyModule {
  default: TopologyDefinition;
  demo?: (() => Iterable<DemoRecord>) | Iterable<DemoRecord>;
}

/** Runs a topology file until it is stopped (Kafka) or its demo input is processed (embedded). */
export async function runTopology(module: TopologyModule, settings: RunSettings, out: (line: string) => void = console.log): Promise<number> {
  const definition = module.default;
  const topology = definition.build();
  const applicationId = settings.applicationId ?? definition.config.applicationId;
  const embedded = settings.brokers === undefined;
  let demo: Iterable<DemoRecord> | undefined;
  if (embedded) {
    demo = typeof module.demo === 'function' ? module.demo() : module.demo;
    if (!demo) throw new Error(`${settings.file} exports no \`demo\` input, which the embedded mode feeds: export function* demo() { yield { topic, key, value } }, or pass --brokers`);
  }
  const restore = restoreReporter(settings.quiet);
  const app = new KafkaStreams(topology, {
    applicationId,
    ...(settings.brokers ? { brokers: settings.brokers } : {}),
    ...(settings.redis ? { redis: settings.redis } : {}),
    processingGuarantee: settings.guarantee,
    ...(settings.commitIntervalMs !== undefined ? { commitIntervalMs: settings.commitIntervalMs } : {}),
    ...(settings.maxRecordBytes !== undefined ? { maxRecordBytes: settings.maxRecordBytes } : {}),
    ...(settings.cacheMaxEntries !== undefined ? { cacheMaxEntries: settings.cacheMaxEntries } : {}),
    ...(settings.repartitionPurgeIntervalMs !== undefined ? { repartitionPurgeIntervalMs: settings.repartitionPurgeIntervalMs } : {}),
    ...(settings.producerLanes !== undefined ? { producerLanes: settings.producerLanes } : {}),
    ...(settings.redisOutageTimeoutMs !== undefined ? { redisOutageTimeoutMs: settings.redisOutageTimeoutMs } : {}),
    errorHandling: 'dead-letter',
    ...(definition.config.topics ? { topics: definition.config.topics } : {}),
    createTopics: settings.createTopics,
    watchdog: { failOnStall: settings.failOnStall, ...(settings.watchdogIntervalMs !== undefined ? { intervalMs: settings.watchdogIntervalMs } : {}) },
    ...(settings.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: settings.sessionTimeoutMs } : {}),
    ...(settings.heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs: settings.heartbeatIntervalMs } : {}),
    onRestoreProgress: restore,
    ...(settings.advertisedUrl !== undefined ? { advertisedUrl: settings.advertisedUrl } : {}),
  });
  let metricsServer: Server | undefined;
  let dashboard: Dashboard | undefined;
  const where = embedded ? 'the embedded broker' : `Kafka at ${settings.brokers!.join(',')}`;
  const state = settings.redis ? `state in Redis at ${settings.redis}` : 'in-memory state';
  out(`tributary: running ${applicationId}${definition.config.description ? ` (${definition.config.description})` : ''} on ${where} with ${state}`);
  const stop = new AbortController();
  const onSignal = (signal: string): void => {
    if (stop.signal.aborted) {
      out(`${signal} again: exiting without a final commit`);
      process.exit(130);
    }
    out(`${signal}: draining, committing and leaving the group ...`);
    stop.abort();
  };
  const sigint = (): void => onSignal('SIGINT');
  const sigterm = (): void => onSignal('SIGTERM');
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);
  let tasksShown = '';
  const stateWatch = app.state$.subscribe((state) => {
    if (state !== 'RUNNING' || embedded) return;
    const tasks = app.taskIds().join(', ');
    if (tasks !== tasksShown) out(`tasks: ${tasks || '(none)'}`);
    tasksShown = tasks;
  });
  const watches: { unsubscribe(): void }[] = [];
  let deadLetterWatch: NodeJS.Timeout | undefined;
  let stoppedByDeadLetter = false;
  try {
    // A signal while joining (which waits for a dead member's session to expire) stops at once.
    const starting = app.start();
    starting.catch(() => undefined);
    await Promise.race([starting, whenAborted(stop.signal)]);
    if (stop.signal.aborted) {
      await app.close();
      out('stopped while starting');
      return 0;
    }
    if (settings.failOnDeadLetter) {
      deadLetterWatch = setInterval(() => {
        if (app.snapshot().deadLettered === 0 || stop.signal.aborted) return;
        stoppedByDeadLetter = true;
        stop.abort();
      }, 20);
    }
    if (settings.metricsPort !== undefined) {
      const benchDir = process.env.TRIBUTARY_BENCH_RESULTS;
      dashboard = startDashboard({ title: applicationId, kind: 'runner', registries: [app.registry, modelMetrics], ...(benchDir ? { benchDir } : {}) });
      const notes = dashboard.collector;
      watches.push(app.state$.subscribe((s) => notes.recordState(s)), app.deadLetters$.subscribe((event) => notes.recordDeadLetter(event)));
      metricsServer = await serveMetrics(settings.metricsPort, [app.registry, modelMetrics], { application_id: applicationId }, [queryRoutes(app), dashboard.route]);
      const port = (metricsServer.address() as { port: number }).port;
      out(`metrics: http://localhost:${port}/metrics · dashboard: http://localhost:${port}/`);
    }
    const sinks = new Set(topology.sinkTopics());
    const progress = (s: RuntimeSnapshot): void => {
      if (settings.quiet) return;
      const outputs = [...sinks].map((t) => `${t} ${format(s.produced[t] ?? 0)}`).join(' · ');
      out(`  ${format(s.processedInput)} records in · ${format(s.recordsPerSecond)} records/s · lag ${format(s.lag)} · ${outputs} · dead-lettered ${format(s.deadLettered)}`);
    };
    const started = Date.now();
    let fed = 0;
    if (embedded) {
      fed = await feedDemo(app, topology, demo!, definition.config.demoRate, stop.signal, progress);
      if (settings.follow && !stop.signal.aborted) {
        out('demo input processed; --follow: still running, Ctrl-C to stop');
        await runUntilStopped(app, stop.signal, progress);
      }
    } else {
      out('joined; Ctrl-C to stop');
      await runUntilStopped(app, stop.signal, progress, 5_000);
    }
    // After the close: its final commit sends what the record cache still holds.
    await app.close();
    const summary = app.snapshot();
    const elapsed = Date.now() - started;
    if (embedded) out(`done: ${format(fed)} records in ${format(elapsed)} ms (${format(Math.round((summary.processedInput * 1000) / Math.max(1, elapsed)))} records/s)`);
    else out(`stopped after ${format(elapsed)} ms: ${format(summary.processedInput)} input records processed`);
    for (const topic of [...sinks].sort()) out(`  ${topic}: ${format(summary.produced[topic] ?? 0)} records`);
    out(`  ${app.deadLetterTopic}: ${format(summary.deadLettered)} records`);
    if (embedded && summary.deadLettered > 0) {
      const reasons = deadLetterReasons(app.broker as InMemoryBroker, app.deadLetterTopic, 3);
      out(`first dead-letter reasons:\n${reasons.map((r) => `  ${r}`).join('\n')}`);
    }
    if (stoppedByDeadLetter) {
      out(`stopped at the first dead-lettered record (--fail-on-dead-letter)${embedded ? '' : `: read ${app.deadLetterTopic} for the reason`}`);
      return 1;
    }
    return 0;
  } catch (error) {
    if (app.state !== 'NOT_RUNNING' && app.state !== 'ERROR') await app.close().catch(() => undefined);
    throw error;
  } finally {
    clearInterval(deadLetterWatch);
    stateWatch.unsubscribe();
    for (const watch of watches) watch.unsubscribe();
    dashboard?.close();
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
    metricsServer?.close();
  }
}

/** The first dead-lettered records of the embedded broker, as `topic/partition@offset (stage): error`. */
function deadLetterReasons(broker: InMemoryBroker, topic: string, max: number): string[] {
  const text = (value: string | Buffer | undefined): string => (value === undefined ? '?' : value.toString());
  const records = [];
  for (let partition = 0; partition < (broker.partitionsFor(topic) ?? 0); partition++) records.push(...broker.read(topic, partition, 0, max));
  return records
    .sort((a, b) => a.timestamp - b.timestamp)
    .slice(0, max)
    .map(({ headers }) => `${text(headers.topic)}/${text(headers.partition)}@${text(headers.offset)} (${text(headers.stage)}): ${text(headers.error)}`);
}

/** Writes the demo input into the embedded broker (bounded ahead of processing) and waits until all of it is processed. */
async function feedDemo(app: KafkaStreams, topology: Topology, demo: Iterable<DemoRecord>, rate: number | undefined, stop: AbortSignal, progress: (s: RuntimeSnapshot) => void): Promise<number> {
  const broker = app.broker as InMemoryBroker;
  const serdes = new Map<string, { key: Serde<unknown>; value: Serde<unknown> }>();
  for (const node of topology.nodes) {
    if (node.kind !== 'source' || node.internal) continue;
    const source = node as SourceNode;
    for (const topic of source.topics) serdes.set(topic, { key: source.keySerde as Serde<unknown>, value: source.valueSerde as Serde<unknown> });
  }
  const subscription = app.metrics$.subscribe(withLag(app, progress));
  let fed = 0;
  const started = Date.now();
  const chunk = rate ? Math.max(1, Math.round(rate / 50)) : 500;
  const failed = app.whenStopped();
  failed.catch(() => undefined);
  try {
    for (const record of demo) {
      if (stop.aborted) break;
      const serde = serdes.get(record.topic);
      if (!serde) throw new Error(`the demo writes to '${record.topic}', which the topology does not read (it reads: ${[...serdes.keys()].join(', ')})`);
      broker.append({
        topic: record.topic,
        key: record.key === null || record.key === undefined ? null : serde.key.serialize(record.key, record.topic),
        value: serde.value.serialize(record.value, record.topic),
        timestamp: record.timestamp ?? Date.now(),
        headers: {},
      });
      fed++;
      if (rate && fed % chunk === 0) {
        const due = started + (fed * 1000) / rate;
        if (due > Date.now()) await Promise.race([sleep(due - Date.now()), failed]);
      }
      if (fed % chunk === 0) {
        while (fed - app.snapshot().processedInput > 20_000 && !stop.aborted) {
          await Promise.race([sleep(5), failed]);
          throwIfFailed(app);
        }
        await new Promise<void>((resolve) => setImmediate(resolve));
        throwIfFailed(app);
      }
    }
    // Done when nothing is left to read, queued or in flight, twice in a row.
    let quiet = 0;
    while (quiet < 2 && !stop.aborted) {
      await Promise.race([sleep(25), failed]);
      throwIfFailed(app);
      const lag = await app.lag();
      const left = [...lag.values()].reduce((a, b) => a + b, 0) + app.pendingRecords();
      quiet = left === 0 && app.state === 'RUNNING' ? quiet + 1 : 0;
    }
  } finally {
    subscription.unsubscribe();
  }
  return fed;
}

async function runUntilStopped(app: KafkaStreams, stop: AbortSignal, progress: (s: RuntimeSnapshot) => void, everyMs = 1_000): Promise<void> {
  let last = 0;
  const report = withLag(app, progress);
  const subscription = app.metrics$.subscribe((s) => {
    if (Date.now() - last < everyMs - 100) return;
    last = Date.now();
    report(s);
  });
  try {
    // An abort before this point fires no event: whenAborted checks the flag first.
    await Promise.race([app.whenStopped(), whenAborted(stop)]);
  } finally {
    subscription.unsubscribe();
  }
}

/** Reports a snapshot with the lag measured now. */
function withLag(app: KafkaStreams, progress: (s: RuntimeSnapshot) => void): (s: RuntimeSnapshot) => void {
  return (snapshot) => {
    app.lag().then(
      (lags) => progress({ ...snapshot, lag: [...lags.values()].reduce((a, b) => a + b, 0) }),
      () => progress(snapshot),
    );
  };
}

function throwIfFailed(app: KafkaStreams): void {
  if (app.state === 'ERROR') throw app.error ?? new Error('the application failed');
}

/** A restore progress bar on stderr (a line per store when stderr is not a terminal). */
function restoreReporter(quiet: boolean): (progress: RestoreProgress) => void {
  return (p) => {
    if (quiet) return;
    const done = p.total === 0 ? 1 : Math.min(1, p.loaded / p.total);
    if (process.stderr.isTTY) {
      const width = 30;
      const filled = Math.round(done * width);
      process.stderr.write(`\r  restoring ${p.taskId} ${p.store} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${format(p.loaded)}/${format(p.total)}${done >= 1 ? '\n' : ''}`);
    } else if (done >= 1) {
      process.stderr.write(`  restored ${p.taskId} ${p.store}: ${format(p.loaded)} entries\n`);
    }
  };
}

/** Resolves when `signal` aborts, or at once if it already has. */
function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function format(n: number): string {
  return n.toLocaleString('en-US');
}
