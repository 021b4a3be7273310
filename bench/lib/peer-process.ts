/**
 * One side's run in bench/kafka-streams-peer.ts: a child process (a JVM, `tributary run`, or the
 * raw kafkajs loop), timed from its spawn until its consumer group's committed offsets reach the
 * end of the input topic and of the internal repartition topic, with its peak RSS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Admin } from 'kafkajs';
import { kafka } from './kafka.ts';

export interface SideRun {
  /** Spawn → the last committed offset at its topic's end, in seconds. */
  seconds: number;
  /** VmHWM of the process (its peak resident set), MB; of its largest child when it has children. */
  peakRssMB: number;
  /** CPU time (user + system) of the process and its children when the end was reached, seconds: less swayed by a shared machine than the wall time. */
  cpuSeconds: number;
  /** The repartition topic that was waited for, if any. */
  repartitionTopic: string | undefined;
  /** Records in the repartition topic (its end offsets, transaction markers included). */
  repartitionEnd: number;
  /** The group's repartition offsets stopped short of the end by transaction markers only (see `trailingMarkers`). */
  endedShortOfMarkers: boolean;
}

export interface SideSpec {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd: string;
  /** The consumer group whose committed offsets are watched (the application id). */
  groupId: string;
  input: string;
  /** Wait for the group to consume `<groupId>-*-repartition` too. */
  repartition: boolean;
  /**
   * Transaction markers that may trail the last data record of each repartition partition
   * (exactly-once): a committed offset that far below the end counts as the end once the input
   * is all committed and the offsets stay put for SETTLE_MS (longer than any commit interval
   * measured here, so a task still behind by that little would have committed meanwhile).
   */
  trailingMarkers: number;
  timeoutMs: number;
}

const SETTLE_MS = 2_000;

/** A process and its descendants (`--processes n` runs its children under it), from /proc; empty where it cannot be read. */
function processTree(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter((c) => c.length > 0);
    return [pid, ...children.flatMap((child) => processTree(Number(child)))];
  } catch {
    return []; // gone, or not Linux
  }
}

/** VmHWM (peak resident set, MB) of the largest process in a tree; 0 where /proc cannot be read. */
function peakRss(pid: number): number {
  let largest = 0;
  for (const id of processTree(pid)) {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${id}/status`, 'utf8'));
      if (match) largest = Math.max(largest, Number(match[1]) / 1024);
    } catch {
      // exited meanwhile
    }
  }
  return largest;
}

/** User + system CPU seconds of a process tree (clock ticks of 1/100 s); 0 where /proc cannot be read. */
function cpuSeconds(pid: number): number {
  let total = 0;
  for (const id of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${id}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime (fields 14 and 15)
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

async function committed(admin: Admin, groupId: string, topic: string): Promise<Map<number, number>> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map((entry?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
}

async function ends(admin: Admin, topic: string): Promise<Map<number, number>> {
  return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
}

/** Runs one side to the end of its input, stops it (SIGTERM) and reports. */
export async function runSide(spec: SideSpec): Promise<SideRun> {
  const admin = kafka.admin();
  await admin.connect();
  const inputEnds = await ends(admin, spec.input);
  const started = performance.now();
  const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: { ...process.env, ...spec.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-8_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: string | undefined;
  child.on('exit', (code, signal) => (exited = `exited with ${code ?? signal}`));
  child.on('error', (error) => (exited = `could not start: ${error.message}`));
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, peakRss(child.pid ?? 0))), 200);
  try {
    let repartitionTopic: string | undefined;
    let repartitionEnd = 0;
    /** The first poll at which the repartition offsets sat within the trailing markers, and those offsets. */
    let candidate: { at: number; offsets: string } | undefined;
    const done = (at: number, endedShortOfMarkers = false): SideRun => ({
      seconds: (at - started) / 1000,
      peakRssMB: Math.max(peak, peakRss(child.pid ?? 0)),
      cpuSeconds: cpuSeconds(child.pid ?? 0),
      repartitionTopic,
      repartitionEnd,
      endedShortOfMarkers,
    });
    for (;;) {
      if (exited) throw new Error(`${spec.command} ${exited} before its group reached the end of ${spec.input}:\n${output}`);
      if (performance.now() - started > spec.timeoutMs) throw new Error(`${spec.groupId} did not reach the end of its input within ${spec.timeoutMs} ms:\n${output}`);
      const at = performance.now();
      const inputCommitted = await committed(admin, spec.groupId, spec.input);
      const inputAtEnd = [...inputEnds].every(([p, end]) => end === 0 || (inputCommitted.get(p) ?? -1) >= end);
      if (inputAtEnd && !spec.repartition) return done(at);
      if (inputAtEnd) {
        // The input is all committed, so everything written to the repartition topic is flushed (and its transactions committed).
        repartitionTopic ??= (await admin.listTopics()).find((t) => t.startsWith(`${spec.groupId}-`) && t.endsWith('-repartition'));
        if (repartitionTopic) {
          const end = await ends(admin, repartitionTopic);
          const offsets = await committed(admin, spec.groupId, repartitionTopic);
          // An empty partition has no committed offset (-1) and needs none.
          const gaps = [...end].map(([p, e]) => (e === 0 ? 0 : e - (offsets.get(p) ?? -1)));
          repartitionEnd = [...end.values()].reduce((a, b) => a + b, 0);
          if (gaps.every((g) => g <= 0)) return done(at);
          const seen = JSON.stringify([...offsets]);
          if (gaps.every((g) => g <= spec.trailingMarkers)) {
            if (candidate?.offsets !== seen) candidate = { at, offsets: seen };
            else if (at - candidate.at >= SETTLE_MS) return done(candidate.at, true);
          } else {
            candidate = undefined;
          }
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    clearInterval(sampler);
    await stop(child);
    await admin.disconnect();
  }
}

/** SIGTERM, then SIGKILL after 30 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await gone;
  clearTimeout(timer);
}
