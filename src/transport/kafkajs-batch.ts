/**
 * kafkajs's consumer `Batch` (`src/consumer/batch.js`) without a BigInt per fetched record;
 * installed by kafkajs-patches.ts. kafkajs keeps a fetch's records at or after the offset it
 * fetched from with `Long.fromValue(message.offset).gte(fetched)`, a BigInt parse and a `Long` per
 * record. Offsets are decimal strings without a sign or leading zeros (kafkajs's and our decoder's
 * `toString` of a non-negative integer), which order by length and then as text: the same records
 * kept, compared as strings. Anything else (a negative offset) is compared as kafkajs does.
 */
import type { FetchedMessage } from './kafkajs-patches.ts';

interface Long {
  gte(other: Long): boolean;
}

/** What a fetch hands `Batch` for one partition (the fields its constructor reads). */
export interface PartitionData<M> {
  partition: number;
  highWatermark: string;
  messages: M[];
  abortedTransactions?: readonly { producerId: string; firstOffset: string }[];
}

/** kafkajs's Batch class, as far as the patched constructor uses it. */
export type BatchClass = new <M extends FetchedMessage>(topic: string, fetchedOffset: string, partitionData: PartitionData<M>) => {
  rawMessages: M[];
  messagesWithinOffset: M[];
  messages: M[];
};

/** Whether `offset` is at or after `fetched`, both canonical decimal strings of non-negative integers. */
export function offsetAtLeast(offset: string, fetched: string): boolean {
  return offset.length > fetched.length || (offset.length === fetched.length && offset >= fetched);
}

const CANONICAL = /^(0|[1-9][0-9]*)$/;

/** `Base` (kafkajs's Batch) with its records kept by offset without BigInt arithmetic. */
export function withStringOffsets(
  Base: BatchClass,
  fromValue: (value: string) => Long,
  filterAborted: <M extends FetchedMessage>(args: { messages: M[]; abortedTransactions?: PartitionData<M>['abortedTransactions'] }) => M[],
): BatchClass {
  return class Batch<M extends FetchedMessage> extends Base<M> {
    constructor(topic: string, fetchedOffset: string, partitionData: PartitionData<M>) {
      // kafkajs's constructor sets every other field; its filters run here, on the records.
      super(topic, fetchedOffset, { ...partitionData, messages: [] });
      const { messages, abortedTransactions } = partitionData;
      this.rawMessages = messages;
      const canonical = typeof fetchedOffset === 'string' && CANONICAL.test(fetchedOffset);
      let fetched: Long | undefined;
      this.messagesWithinOffset = messages.filter((message) => {
        const offset = message.offset;
        if (canonical && typeof offset === 'string' && offset.length > 0 && offset.charCodeAt(0) !== 45) return offsetAtLeast(offset, fetchedOffset);
        return fromValue(offset).gte((fetched ??= fromValue(fetchedOffset)));
      });
      this.messages = filterAborted({ messages: this.messagesWithinOffset, abortedTransactions }).filter((message) => !message.isControlRecord);
    }
  };
}
