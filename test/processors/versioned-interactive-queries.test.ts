/*
 * Ported from Kafka Streams' IQv2VersionedStoreIntegrationTest.verifyStore with its expected
 * results: a versioned source table (history retention 1 day, segment interval 1 hour) holding four
 * versions of one key, read with VersionedKeyQuery (here `versionedStore.get(key[, asOf])`) and
 * MultiVersionedKeyQuery (`getVersions(key, { fromTime, toTime, order })`), then the snapshot
 * check: an update arriving while results are being read does not change them. Kafka's test uses
 * the seconds of its base instant as millisecond timestamps; so does the port.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Materialized, Serdes, Stores, StreamsBuilder, TopologyTestDriver, type VersionedRecord } from 'tributary';

const INPUT_TOPIC_NAME = 'input-topic';
const STORE_NAME = 'versioned-store';
const RECORD_KEY = 2;
const NON_EXISTING_KEY = 3;
const BASE_TIMESTAMP_LONG = Date.parse('2023-01-01T10:00:00.00Z') / 1000;
const RECORD_VALUES = [2, 20, 200, 2000];
const RECORD_TIMESTAMPS = [BASE_TIMESTAMP_LONG, BASE_TIMESTAMP_LONG + 10, BASE_TIMESTAMP_LONG + 20, BASE_TIMESTAMP_LONG + 30];
const LAST_INDEX = RECORD_VALUES.length - 1;
const ints = Serdes.int32();

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

/** The version `i` of RECORD_KEY as Kafka expects it: valid until the next one, the last open-ended. */
const version = (i: number): VersionedRecord<number> =>
  i < LAST_INDEX ? { value: RECORD_VALUES[i]!, timestamp: RECORD_TIMESTAMPS[i]!, validTo: RECORD_TIMESTAMPS[i + 1]! } : { value: RECORD_VALUES[i]!, timestamp: RECORD_TIMESTAMPS[i]! };
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, k) => from + k);

describe('versioned interactive queries (ported from IQv2VersionedStoreIntegrationTest)', () => {
  it('IQv2VersionedStoreIntegrationTest.verifyStore', async () => {
    const builder = new StreamsBuilder();
    builder.table<number, number>(INPUT_TOPIC_NAME, { keySerde: ints, valueSerde: ints }, Materialized.as(Stores.persistentVersionedKeyValueStore(STORE_NAME, '1d', '1h')));
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic(INPUT_TOPIC_NAME, ints, ints);
    for (const [i, value] of RECORD_VALUES.entries()) await input.pipeInput(RECORD_KEY, value, RECORD_TIMESTAMPS[i]!);
    const store = driver.getVersionedKeyValueStore<number, number>(STORE_NAME)!;
    const now = Date.now();

    /* Test Versioned Key Queries */
    // retrieve the latest value
    expect(store.get(RECORD_KEY)).toEqual(version(3));
    expect(store.get(RECORD_KEY, now)).toEqual(version(3));
    expect(store.get(RECORD_KEY, RECORD_TIMESTAMPS[3]!)).toEqual(version(3));
    // retrieve the old value
    expect(store.get(RECORD_KEY, RECORD_TIMESTAMPS[0]!)).toEqual(version(0));
    // there is no record for the provided timestamp
    expect(store.get(RECORD_KEY, RECORD_TIMESTAMPS[0]! - 50)).toBeUndefined();
    // there is no record with this key
    expect(store.get(NON_EXISTING_KEY, now)).toBeUndefined();

    /* Test Multi Versioned Key Queries */
    // retrieve all existing values (ResultOrder.ANY: newest first)
    expect(store.getVersions(RECORD_KEY)).toEqual(range(0, LAST_INDEX).reverse().map(version));
    // retrieve all existing values in ascending order
    expect(store.getVersions(RECORD_KEY, { order: 'ascending' })).toEqual(range(0, LAST_INDEX).map(version));
    // retrieve existing values in query defined time range
    expect(store.getVersions(RECORD_KEY, { fromTime: RECORD_TIMESTAMPS[1]! + 5, toTime: now })).toEqual(range(1, LAST_INDEX).reverse().map(version));
    // there is no record in the query specified time range, in either order
    const before = { fromTime: RECORD_TIMESTAMPS[0]! - 100, toTime: RECORD_TIMESTAMPS[0]! - 50 };
    expect(store.getVersions(RECORD_KEY, before)).toEqual([]);
    expect(store.getVersions(RECORD_KEY, { ...before, order: 'ascending' })).toEqual([]);
    // there is no record with this key, in either order
    expect(store.getVersions(NON_EXISTING_KEY)).toEqual([]);
    expect(store.getVersions(NON_EXISTING_KEY, { order: 'ascending' })).toEqual([]);

    // shouldHandleRaceCondition: read two versions, update the oldest record's value, read on: the old values
    const results = store.getVersions(RECORD_KEY)[Symbol.iterator]();
    const read: VersionedRecord<number>[] = [results.next().value!, results.next().value!];
    await input.pipeInput(RECORD_KEY, 999999, RECORD_TIMESTAMPS[0]!);
    expect(store.get(RECORD_KEY, RECORD_TIMESTAMPS[0]!)?.value).toBe(999999);
    for (let next = results.next(); !next.done; next = results.next()) read.push(next.value);
    expect(read).toEqual(range(0, LAST_INDEX).reverse().map(version));
  });
});
