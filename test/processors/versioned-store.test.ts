/*
 * Ported from Kafka Streams' VersionedKeyValueStoreIntegrationTest.shouldPutGetAndDelete: a
 * processor writes to a versioned store added with Stores.versionedKeyValueStoreBuilder and checks
 * its whole content after every record; every record must report zero failed checks. Here in the
 * test driver; test/integration/versioned-tables.test.ts runs shouldRestore on Kafka and Redis.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Serdes, Stores, StreamsBuilder, TopologyTestDriver } from 'tributary';
import { DataTracker, DELETE_VALUE_KEYWORD, versionedStoreContentChecker } from './versioned-store-checker.ts';

const STORE_NAME = 'versioned-store';
const HISTORY_RETENTION = 3_600_000;
const ints = Serdes.int32();
const strings = Serdes.nullable(Serdes.string());

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

describe('versioned store in a processor (ported from VersionedKeyValueStoreIntegrationTest)', () => {
  it('VersionedKeyValueStoreIntegrationTest.shouldPutGetAndDelete: out-of-order puts, replacements, null puts and deletes all read back', async () => {
    const builder = new StreamsBuilder();
    builder.addStateStore(Stores.versionedKeyValueStoreBuilder(Stores.persistentVersionedKeyValueStore(STORE_NAME, HISTORY_RETENTION), ints, Serdes.string()));
    builder.stream<number, string | null>('input', { keySerde: ints, valueSerde: strings })
      .process(versionedStoreContentChecker(STORE_NAME, true), STORE_NAME)
      .to('output', { keySerde: ints, valueSerde: ints });
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('input', ints, strings);
    const output = driver.createOutputTopic('output', ints, ints);
    const base = 1_700_000_000_000;
    const rounds: [number, [number, string | null][]][] = [
      [base, [[1, 'a0'], [2, 'b0'], [3, null]]],
      [base + 5, [[1, 'a5'], [2, null], [3, 'c5']]],
      [base + 2, [[1, 'a2'], [2, 'b2'], [3, null]]],
      [base + 5, [[1, 'a5_new'], [2, 'b5'], [3, null]]],
      [base + 7, [[1, DELETE_VALUE_KEYWORD], [2, DELETE_VALUE_KEYWORD], [3, DELETE_VALUE_KEYWORD]]],
    ];
    for (const [timestamp, pairs] of rounds) for (const [key, value] of pairs) await input.pipeInput(key, value, timestamp);
    const failed = output.readValuesToList();
    expect(failed).toHaveLength(15);
    expect(failed.every((n) => n === 0)).toBe(true);
  });

  it('the checker reports a store that lost a version (so the port can fail)', async () => {
    const builder = new StreamsBuilder();
    builder.addStateStore(Stores.versionedKeyValueStoreBuilder(Stores.persistentVersionedKeyValueStore(STORE_NAME, 10), ints, Serdes.string()));
    const tracker = new DataTracker();
    tracker.add(1, 0, 'expected-but-never-put');
    builder.stream<number, string | null>('input', { keySerde: ints, valueSerde: strings })
      .process(versionedStoreContentChecker(STORE_NAME, true, tracker), STORE_NAME)
      .to('output', { keySerde: ints, valueSerde: ints });
    driver = new TopologyTestDriver(builder.build());
    await driver.createInputTopic('input', ints, strings).pipeInput(2, 'x', 5);
    expect(driver.createOutputTopic('output', ints, ints).readValuesToList()).toEqual([2]);
  });
});
