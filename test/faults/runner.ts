/**
 * Real `tributary run` processes for fault tests: the count-by-key fixture topology on the real
 * broker, with short group timeouts so that a killed member's partitions move within seconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { brokers } from '../integration/kafka-helpers.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = 'test/fixtures/topologies/count-by-key.ts';
const children = new Set<ChildProcess>();
let admin: Admin | undefined;

/** A runner process: its output so far and its exit code once it exits (`null` when killed by a signal). */
export interface Runner {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `tributary run` on the fixture with COUNT_INPUT/COUNT_OUTPUT, a 100 ms commit interval and `args` (e.g. --redis, --guarantee). */
export function startRunner(applicationId: string, input: string, output: string, args: string[]): Runner {
  const child = spawn(
    process.execPath,
    ['bin/tributary.js', 'run', fixture, '--brokers', brokers.join(','), '--application-id', applicationId, '--commit-interval', '100', '--quiet', ...args],
    {
      cwd: root,
      env: { ...process.env, COUNT_INPUT: input, COUNT_OUTPUT: output, TRIBUTARY_SESSION_TIMEOUT_MS: '6000', TRIBUTARY_HEARTBEAT_MS: '500' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { child, output: () => text, exited };
}

/** A connected admin client shared by the fault tests of one file. */
export async function faultAdmin(): Promise<Admin> {
  if (!admin) {
    admin = new Kafka({ clientId: 'fault-tests', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  }
  return admin;
}

/** Offsets written to a topic so far, over all partitions (transaction markers included). */
export async function topicEnd(topic: string): Promise<number> {
  const offsets = await (await faultAdmin()).fetchTopicOffsets(topic);
  return offsets.reduce((n, o) => n + Number(o.high), 0);
}

/** Kills the runners still alive and disconnects the admin client. */
export async function stopRunners(): Promise<void> {
  for (const child of children) child.kill('SIGKILL');
  await admin?.disconnect();
  admin = undefined;
}
