import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { groupingModulePath, linearGroupMessagesPerPartition } from '../../src/transport/kafkajs-patches.ts';
import '../../src/transport/kafka-transport.ts';

const require = createRequire(import.meta.url);

/** kafkajs's own groupMessagesPerPartition, evaluated from its file (the module cache holds ours). */
function original(): typeof linearGroupMessagesPerPartition {
  const module = { exports: {} as unknown };
  new Function('module', 'exports', 'require', readFileSync(groupingModulePath()!, 'utf8'))(module, module.exports, require);
  return module.exports as typeof linearGroupMessagesPerPartition;
}

describe('kafkajs patches', () => {
  it('kafkajs groups messages with the linear version', () => {
    expect(require(groupingModulePath()!)).toBe(linearGroupMessagesPerPartition);
  });

  it('groups exactly as kafkajs does: partitions in first-seen order, messages in send order', () => {
    const partitionMetadata = [{ partitionId: 0 }, { partitionId: 1 }, { partitionId: 2 }];
    const messages = Array.from({ length: 500 }, (_, i) => ({ key: `k${(i * 7919) % 13}`, value: `v${i}`, partition: (i * 31) % 3 }));
    const partitioner = ({ message }: { message: unknown }): number => (message as { partition: number }).partition;
    const args = { topic: 't', partitionMetadata, messages, partitioner };
    const ours = linearGroupMessagesPerPartition(args);
    const theirs = original()(args);
    expect(Object.keys(ours)).toEqual(Object.keys(theirs));
    expect(ours).toEqual(theirs);
    expect(linearGroupMessagesPerPartition({ ...args, partitionMetadata: [] })).toEqual(original()({ ...args, partitionMetadata: [] }));
  });
});
