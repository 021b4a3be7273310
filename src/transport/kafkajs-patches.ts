/**
 * A fix to kafkajs 2.2.4, applied before kafkajs loads (import this module first).
 *
 * Its producer groups a send's messages by partition with `[...current, message]` for every
 * message (`src/producer/groupMessagesPerPartition.js`), so a send of n records to one partition
 * copies n²/2 references: 14 % of a word count's CPU time in issue 17's profile, growing with the
 * size of a send. kafkajs is no longer released, so the linear version with the same result
 * (partitions in first-seen order, messages in send order) is put in Node's module cache under
 * that module's path; kafkajs's `sendMessages.js` then requires it. If kafkajs was loaded before
 * this module (an application that imported it first), nothing changes but speed.
 */
import { createRequire } from 'node:module';

interface GroupArgs {
  topic: string;
  partitionMetadata: readonly unknown[];
  messages: readonly unknown[];
  partitioner: (args: { topic: string; partitionMetadata: readonly unknown[]; message: unknown }) => number;
}

/** kafkajs's groupMessagesPerPartition, in linear time. */
export function linearGroupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner }: GroupArgs): Record<number, unknown[]> {
  const result: Record<number, unknown[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (result[partition] ??= []).push(message);
  }
  return result;
}

const require = createRequire(import.meta.url);

/** Where kafkajs's own grouping module lives, or undefined when kafkajs is not the expected layout. */
export function groupingModulePath(): string | undefined {
  try {
    return require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
  } catch {
    return undefined;
  }
}

function install(): void {
  const path = groupingModulePath();
  if (path === undefined || require.cache[path] !== undefined) return;
  const Module = require('node:module') as { new (id: string): NodeJS.Module };
  const patched = new Module(path);
  patched.filename = path;
  patched.loaded = true;
  patched.exports = linearGroupMessagesPerPartition;
  require.cache[path] = patched;
}

install();
