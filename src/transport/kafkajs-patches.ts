/**
 * Fixes to kafkajs 2.2.4, applied before kafkajs loads (import this module first). kafkajs is no
 * longer released, so each fixed module is put in Node's module cache under the path of the one it
 * replaces; kafkajs then requires the fixed one. If kafkajs was loaded before this module (an
 * application that imported it first), nothing changes.
 *
 * 1. **Aborted records under read_committed** (`src/consumer/filterAbortedMessages.js`). A fetch
 *    lists the aborted transactions it covers in the order their abort markers were written, not
 *    by first offset; kafkajs looks only at the head of that list and moves past at most one
 *    transaction per record. When producer B's transaction aborts before producer A's that began
 *    earlier on the same partition, A's records before B's first offset are delivered as if
 *    committed: under exactly-once a counting task counted a killed runner's aborted repartition
 *    records (issue 12). The fix does what Kafka's Java consumer does: aborted transactions sorted
 *    by first offset, every one that has begun taken in, and only a control record's abort marker
 *    ends one (kafkajs also ended one at any record whose key was four zero bytes).
 *
 * 2. **Quadratic producer grouping.** Its producer groups a send's messages by partition with `[...current, message]` for every
 * message (`src/producer/groupMessagesPerPartition.js`), so a send of n records to one partition
 * copies n²/2 references: 14 % of a word count's CPU time in issue 17's profile, growing with the
 * size of a send. The linear version gives the same result (partitions in first-seen order,
 * messages in send order).
 *
 * 3. **A 512-byte buffer per produced record** (`src/protocol/recordBatch/record/v0/index.js`):
 *    replaced by `encodeRecord` (kafkajs-record-encoder.ts), which writes the same bytes into an
 *    encoder sized to the record.
 *
 * 4. **Per-record copies in the produce request** (`src/protocol/requests/produce/v3/request.js`,
 *    used by v3–v7): replaced by `produceRequestV3` (kafkajs-produce-request.ts), the same bytes
 *    without sorting every partition's timestamps or spreading every message; an uncompressed
 *    partition's batch is written in one pass into one buffer (kafkajs-record-batch.ts).
 *
 * 5. **A Decoder and BigInt arithmetic per fetched record** (`src/protocol/recordBatch/v0/decoder.js`):
 *    replaced by `decodeRecordBatch` (kafkajs-record-batch-decoder.ts), the same record objects
 *    read in one loop over the batch.
 *
 * 6. **CRC-32C a byte at a time** (`src/protocol/recordBatch/crc32C/index.js`): replaced by
 *    `crc32c` (crc32c.ts), eight bytes at a time, 2.5× faster on a MiB.
 *
 * 7. **A BigInt per fetched record in the consumer's `Batch`** (`src/consumer/batch.js`): its class
 *    is replaced by a subclass (kafkajs-batch.ts) that keeps the same records, comparing their
 *    offsets as decimal strings.
 */
import { createRequire } from 'node:module';
import { crc32c } from './crc32c.ts';
import { withStringOffsets, type BatchClass } from './kafkajs-batch.ts';
import { produceRequestV3 } from './kafkajs-produce-request.ts';
import { decodeRecordBatch } from './kafkajs-record-batch-decoder.ts';
import { encodeRecord } from './kafkajs-record-encoder.ts';

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

/** A record as kafkajs's fetch decodes it (the fields the filter reads). */
export interface FetchedMessage {
  offset: string;
  key: Buffer | null;
  isControlRecord?: boolean;
  batchContext: { producerId: string; inTransaction: boolean };
}

/** An aborted transaction a fetch response lists for a partition. */
export interface AbortedTransaction {
  producerId: string;
  firstOffset: string;
}

/** A control record whose type (the int16 after the key's int16 version) is ABORT (0). */
function isAbortMarker(message: FetchedMessage): boolean {
  return message.isControlRecord === true && message.key !== null && message.key.length >= 4 && message.key.readInt16BE(2) === 0;
}

/**
 * kafkajs's filterAbortedMessages, as Kafka's Java consumer filters: drops the transactional
 * records of every producer between the first offset of its aborted transaction and its abort
 * marker, whatever order the response lists the transactions in. Markers are kept (kafkajs drops
 * control records after this filter, and reads positions from them).
 */
export function filterAbortedMessages<M extends FetchedMessage>({ messages, abortedTransactions }: { messages: M[]; abortedTransactions?: readonly AbortedTransaction[] }): M[] {
  if (!abortedTransactions || abortedTransactions.length === 0) return messages;
  const pending = [...abortedTransactions].sort((a, b) => (BigInt(a.firstOffset) < BigInt(b.firstOffset) ? -1 : BigInt(a.firstOffset) > BigInt(b.firstOffset) ? 1 : 0));
  const aborting = new Set<string>();
  let next = 0;
  return messages.filter((message) => {
    const offset = BigInt(message.offset);
    while (next < pending.length && BigInt(pending[next]!.firstOffset) <= offset) aborting.add(pending[next++]!.producerId);
    const { producerId, inTransaction } = message.batchContext;
    if (isAbortMarker(message)) {
      aborting.delete(producerId);
      return true;
    }
    return !(inTransaction && aborting.has(producerId));
  });
}

const require = createRequire(import.meta.url);

/** The kafkajs modules replaced, by their path inside the package. */
const REPLACEMENTS: ReadonlyArray<readonly [string, unknown]> = [
  ['kafkajs/src/producer/groupMessagesPerPartition.js', linearGroupMessagesPerPartition],
  ['kafkajs/src/consumer/filterAbortedMessages.js', filterAbortedMessages],
  ['kafkajs/src/protocol/recordBatch/record/v0/index.js', encodeRecord],
  ['kafkajs/src/protocol/requests/produce/v3/request.js', produceRequestV3],
  ['kafkajs/src/protocol/recordBatch/v0/decoder.js', decodeRecordBatch],
  ['kafkajs/src/protocol/recordBatch/crc32C/index.js', crc32c],
];

/** Where a kafkajs module lives, or undefined when kafkajs is not the expected layout. */
export function kafkajsModulePath(inPackage: string): string | undefined {
  try {
    return require.resolve(inPackage);
  } catch {
    return undefined;
  }
}

/** Where kafkajs's own grouping module lives, or undefined when kafkajs is not the expected layout. */
export function groupingModulePath(): string | undefined {
  return kafkajsModulePath('kafkajs/src/producer/groupMessagesPerPartition.js');
}

/**
 * Whether kafkajs reads read_committed with the fixed filter: false when kafkajs was loaded
 * before this module (or is not the layout this module knows), so that the patch could not apply.
 */
export function readCommittedFilterFixed(): boolean {
  const path = kafkajsModulePath('kafkajs/src/consumer/filterAbortedMessages.js');
  return path !== undefined && require.cache[path]?.exports === filterAbortedMessages;
}

function install(): void {
  const Module = require('node:module') as { new (id: string): NodeJS.Module };
  for (const [inPackage, replacement] of REPLACEMENTS) {
    const path = kafkajsModulePath(inPackage);
    if (path === undefined || require.cache[path] !== undefined) continue;
    const patched = new Module(path);
    patched.filename = path;
    patched.loaded = true;
    patched.exports = replacement;
    require.cache[path] = patched;
  }
  installBatch();
}

/** Item 7: kafkajs's Batch, loaded (after the filter it requires is ours) and subclassed in its module's exports. */
function installBatch(): void {
  const path = kafkajsModulePath('kafkajs/src/consumer/batch.js');
  if (path === undefined || require.cache[path] !== undefined) return;
  const Base = require(path) as BatchClass;
  const Long = require('kafkajs/src/utils/long.js') as { fromValue(value: string): { gte(other: unknown): boolean } };
  require.cache[path]!.exports = withStringOffsets(Base, (value) => Long.fromValue(value), filterAbortedMessages);
}

install();
