/*
 * Ported from Kafka Streams' RocksDBVersionedStoreTest (streams/src/test/java/org/apache/kafka/
 * streams/state/internals): the same puts, deletes and reads, with the same expected versions and
 * put return codes, against the in-memory versioned store the test driver and the engine use.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { InMemoryVersionedKeyValueStore, PUT_RETURN_CODE_NOT_PUT, PUT_RETURN_CODE_VALID_TO_UNDEFINED } from 'tributary';

const HISTORY_RETENTION = 300_000;
const GRACE_PERIOD = HISTORY_RETENTION;
const SEGMENT_INTERVAL = HISTORY_RETENTION / 3;
const BASE_TIMESTAMP = 10;
const UNDEFINED = PUT_RETURN_CODE_VALID_TO_UNDEFINED;

let store: InMemoryVersionedKeyValueStore<string, string>;
beforeEach(() => {
  store = new InMemoryVersionedKeyValueStore('versioned', { historyRetentionMs: HISTORY_RETENTION, segmentIntervalMs: SEGMENT_INTERVAL });
});

function put(key: string, value: string | null, timestamp: number, expectedValidTo: number): void {
  expect(store.put(key, value, timestamp), `put(${key}, ${value}, ${timestamp})`).toBe(expectedValidTo);
}
function latestIs(key: string, value: string, timestamp: number): void {
  expect(store.get(key)).toEqual({ value, timestamp });
}
function latestIsNull(key: string): void {
  expect(store.get(key)).toBeUndefined();
}
function asOfIs(key: string, asOf: number, value: string, timestamp: number, validTo: number): void {
  expect(store.get(key, asOf), `get(${key}, ${asOf})`).toEqual(validTo === UNDEFINED ? { value, timestamp } : { value, timestamp, validTo });
}
function asOfIsNull(key: string, asOf: number): void {
  expect(store.get(key, asOf), `get(${key}, ${asOf})`).toBeUndefined();
}

describe('versioned key-value store (ported from RocksDBVersionedStoreTest)', () => {
  it('shouldPutLatest: each newer put is the latest; as-of reads find the version valid then', () => {
    put('k', 'v', BASE_TIMESTAMP, UNDEFINED);
    put('k', 'v2', BASE_TIMESTAMP + 1, UNDEFINED);
    latestIs('k', 'v2', BASE_TIMESTAMP + 1);
    asOfIs('k', BASE_TIMESTAMP, 'v', BASE_TIMESTAMP, BASE_TIMESTAMP + 1);
    asOfIs('k', BASE_TIMESTAMP + 1, 'v2', BASE_TIMESTAMP + 1, UNDEFINED);
    asOfIs('k', BASE_TIMESTAMP + 2, 'v2', BASE_TIMESTAMP + 1, UNDEFINED);
  });

  it('shouldPutNullAsLatest: a null put is a deletion', () => {
    put('k', null, BASE_TIMESTAMP, UNDEFINED);
    put('k', null, BASE_TIMESTAMP + 1, UNDEFINED);
    latestIsNull('k');
    asOfIsNull('k', BASE_TIMESTAMP);
    asOfIsNull('k', BASE_TIMESTAMP + 1);
    asOfIsNull('k', BASE_TIMESTAMP + 2);
  });

  it('shouldPutOlderWithNonNullLatest: out-of-order puts return the validTo they get', () => {
    put('k', 'v', BASE_TIMESTAMP, UNDEFINED);
    put('k', 'v2', BASE_TIMESTAMP - 2, BASE_TIMESTAMP);
    put('k', 'v1', BASE_TIMESTAMP - 1, BASE_TIMESTAMP);
    put('k', 'v4', BASE_TIMESTAMP - 4, BASE_TIMESTAMP - 2);
    latestIs('k', 'v', BASE_TIMESTAMP);
    asOfIs('k', BASE_TIMESTAMP, 'v', BASE_TIMESTAMP, UNDEFINED);
    asOfIs('k', BASE_TIMESTAMP - 1, 'v1', BASE_TIMESTAMP - 1, BASE_TIMESTAMP);
    asOfIs('k', BASE_TIMESTAMP - 2, 'v2', BASE_TIMESTAMP - 2, BASE_TIMESTAMP - 1);
    asOfIs('k', BASE_TIMESTAMP - 3, 'v4', BASE_TIMESTAMP - 4, BASE_TIMESTAMP - 2);
  });

  it('shouldPutOlderWithNullLatest: history before a deletion stays readable', () => {
    put('k', null, BASE_TIMESTAMP, UNDEFINED);
    put('k', 'v2', BASE_TIMESTAMP - 2, BASE_TIMESTAMP);
    put('k', 'v1', BASE_TIMESTAMP - 1, BASE_TIMESTAMP);
    put('k', 'v4', BASE_TIMESTAMP - 4, BASE_TIMESTAMP - 2);
    latestIsNull('k');
    asOfIsNull('k', BASE_TIMESTAMP);
    asOfIs('k', BASE_TIMESTAMP - 1, 'v1', BASE_TIMESTAMP - 1, BASE_TIMESTAMP);
    asOfIs('k', BASE_TIMESTAMP - 2, 'v2', BASE_TIMESTAMP - 2, BASE_TIMESTAMP - 1);
    asOfIs('k', BASE_TIMESTAMP - 3, 'v4', BASE_TIMESTAMP - 4, BASE_TIMESTAMP - 2);
  });

  it('shouldPutOlderNullWithNonNullLatest: out-of-order deletions are versions too', () => {
    put('k', 'v', BASE_TIMESTAMP, UNDEFINED);
    put('k', null, BASE_TIMESTAMP - 2, BASE_TIMESTAMP);
    put('k', null, BASE_TIMESTAMP - 1, BASE_TIMESTAMP);
    put('k', null, BASE_TIMESTAMP - 4, BASE_TIMESTAMP - 2);
    put('k', 'v5', BASE_TIMESTAMP - 5, BASE_TIMESTAMP - 4);
    put('k', 'v3', BASE_TIMESTAMP - 3, BASE_TIMESTAMP - 2);
    put('k', null, BASE_TIMESTAMP - 6, BASE_TIMESTAMP - 5);
    latestIs('k', 'v', BASE_TIMESTAMP);
    asOfIs('k', BASE_TIMESTAMP, 'v', BASE_TIMESTAMP, UNDEFINED);
    asOfIsNull('k', BASE_TIMESTAMP - 1);
    asOfIsNull('k', BASE_TIMESTAMP - 2);
    asOfIs('k', BASE_TIMESTAMP - 3, 'v3', BASE_TIMESTAMP - 3, BASE_TIMESTAMP - 2);
    asOfIsNull('k', BASE_TIMESTAMP - 4);
    asOfIs('k', BASE_TIMESTAMP - 5, 'v5', BASE_TIMESTAMP - 5, BASE_TIMESTAMP - 4);
    asOfIsNull('k', BASE_TIMESTAMP - 6);
  });

  it('shouldPutRepeatTimestampAsLatest: a put at an existing timestamp replaces that version', () => {
    put('k', 'to_be_replaced', BASE_TIMESTAMP, UNDEFINED);
    put('k', 'b', BASE_TIMESTAMP, UNDEFINED);
    latestIs('k', 'b', BASE_TIMESTAMP);
    asOfIs('k', BASE_TIMESTAMP, 'b', BASE_TIMESTAMP, UNDEFINED);
    asOfIsNull('k', BASE_TIMESTAMP - 1);
    put('k', null, BASE_TIMESTAMP, UNDEFINED);
    latestIsNull('k');
    asOfIsNull('k', BASE_TIMESTAMP);
    put('k', null, BASE_TIMESTAMP, UNDEFINED);
    latestIsNull('k');
    put('k', 'b', BASE_TIMESTAMP, UNDEFINED);
    latestIs('k', 'b', BASE_TIMESTAMP);
    asOfIs('k', BASE_TIMESTAMP, 'b', BASE_TIMESTAMP, UNDEFINED);
    asOfIsNull('k', BASE_TIMESTAMP - 1);
  });

  it('shouldPutRepeatTimestamps: replacing values and deletions at repeated timestamps', () => {
    const S = SEGMENT_INTERVAL;
    put('k', 'to_be_replaced', S + 20, UNDEFINED);
    put('k', null, S - 10, S + 20);
    put('k', 'to_be_replaced', S - 10, S + 20);
    put('k', null, S - 10, S + 20);
    put('k', 'to_be_replaced', S - 1, S + 20);
    put('k', 'to_be_replaced', S + 1, S + 20);
    put('k', null, S - 1, S + 1);
    put('k', null, S + 1, S + 20);
    put('k', null, S + 10, S + 20);
    put('k', null, S + 5, S + 10);
    put('k', 'vp5', S + 5, S + 10);
    put('k', 'to_be_replaced', S - 5, S - 1);
    put('k', 'vn5', S - 5, S - 1);
    put('k', null, S + 20, UNDEFINED);
    put('k', null, S + 20, UNDEFINED);
    put('k', 'vn6', S - 6, S - 5);
    latestIsNull('k');
    asOfIsNull('k', S + 30);
    asOfIsNull('k', S + 15);
    asOfIs('k', S + 6, 'vp5', S + 5, S + 10);
    asOfIsNull('k', S + 2);
    asOfIsNull('k', S);
    asOfIsNull('k', S - 1);
    asOfIs('k', S - 5, 'vn5', S - 5, S - 1);
    asOfIs('k', S - 6, 'vn6', S - 6, S - 5);
    asOfIsNull('k', S - 8);
  });

  it('shouldFallThroughToExistingOlderSegmentAsLatestDuringPut', () => {
    const S = SEGMENT_INTERVAL;
    put('k', null, S - 5, UNDEFINED);
    put('k', 'vn6', S - 6, S - 5);
    put('k', 'vp20', S + 20, UNDEFINED);
    put('k', null, S + 10, S + 20);
    put('k', null, S - 1, S + 10);
    put('k', 'vn2', S - 2, S - 1);
    latestIs('k', 'vp20', S + 20);
    asOfIs('k', S + 30, 'vp20', S + 20, UNDEFINED);
    asOfIsNull('k', S + 12);
    asOfIsNull('k', S);
    asOfIsNull('k', S - 1);
    asOfIs('k', S - 2, 'vn2', S - 2, S - 1);
    asOfIsNull('k', S - 5);
    asOfIs('k', S - 6, 'vn6', S - 6, S - 5);
  });

  it('shouldDelete: delete returns the version valid at the deletion time', () => {
    const S = SEGMENT_INTERVAL;
    put('k', 'vp20', S + 20, UNDEFINED);
    put('k', 'vp10', S + 10, S + 20);
    put('k', 'vn10', S - 10, S + 10);
    put('k', 'vn2', S - 2, S + 10);
    expect(store.delete('k', S - 5)).toEqual({ value: 'vn10', timestamp: S - 10, validTo: S - 2 });
    expect(store.delete('k', S + 10)).toMatchObject({ value: 'vp10', timestamp: S + 10 });
    expect(store.delete('k', S + 10)).toBeUndefined();
    expect(store.delete('k', S + 25)).toEqual({ value: 'vp20', timestamp: S + 20 });
  });

  it('shouldNotPutExpired: a put older than stream time minus the grace period (the history retention) is refused', () => {
    put('k', 'v', HISTORY_RETENTION + 10, UNDEFINED);
    put('k1', 'v1', HISTORY_RETENTION + 10 - GRACE_PERIOD, UNDEFINED);
    latestIs('k1', 'v1', HISTORY_RETENTION + 10 - GRACE_PERIOD);
    put('k2', 'v2', HISTORY_RETENTION + 9 - GRACE_PERIOD, PUT_RETURN_CODE_NOT_PUT);
    latestIsNull('k2');
  });

  it('shouldNotDeleteExpired: a delete older than the grace period does nothing and returns nothing', () => {
    put('k1', 'v1', 1, UNDEFINED);
    put('k2', 'v2', 1, UNDEFINED);
    put('kother', 'vother', HISTORY_RETENTION + 10, UNDEFINED);
    expect(store.delete('k1', HISTORY_RETENTION + 10 - GRACE_PERIOD)).toEqual({ value: 'v1', timestamp: 1 });
    latestIsNull('k1');
    expect(store.delete('k2', HISTORY_RETENTION + 9 - GRACE_PERIOD)).toBeUndefined();
    latestIs('k2', 'v2', 1);
  });

  it('shouldNotGetExpired: an as-of read older than the history retention finds nothing', () => {
    put('k', 'v_old', 0, UNDEFINED);
    put('k', 'v', SEGMENT_INTERVAL - 10, UNDEFINED);
    asOfIs('k', SEGMENT_INTERVAL - 11, 'v_old', 0, SEGMENT_INTERVAL - 10);
    put('ko', 'vo', HISTORY_RETENTION + SEGMENT_INTERVAL - 11, UNDEFINED);
    asOfIs('k', SEGMENT_INTERVAL - 11, 'v_old', 0, SEGMENT_INTERVAL - 10);
    put('ko', 'vo2', HISTORY_RETENTION + SEGMENT_INTERVAL - 10, UNDEFINED);
    asOfIsNull('k', SEGMENT_INTERVAL - 11);
  });

  it('shouldGetExpiredIfLatestValue: the latest version answers however old the read', () => {
    put('k', 'v', 1, UNDEFINED);
    put('ko', 'vo_old', 1, UNDEFINED);
    put('ko', 'vo_new', HISTORY_RETENTION + 12, UNDEFINED);
    asOfIs('k', 10, 'v', 1, UNDEFINED);
    asOfIsNull('ko', 10);
  });

  it('shouldAllowZeroHistoryRetention: only the latest version is kept; late puts are refused', () => {
    store = new InMemoryVersionedKeyValueStore('versioned', { historyRetentionMs: 0, segmentIntervalMs: SEGMENT_INTERVAL });
    put('k', 'v', BASE_TIMESTAMP, UNDEFINED);
    latestIs('k', 'v', BASE_TIMESTAMP);
    asOfIs('k', BASE_TIMESTAMP, 'v', BASE_TIMESTAMP, UNDEFINED);
    asOfIs('k', BASE_TIMESTAMP + 1, 'v', BASE_TIMESTAMP, UNDEFINED);
    put('k', 'updated', BASE_TIMESTAMP, UNDEFINED);
    latestIs('k', 'updated', BASE_TIMESTAMP);
    put('k', 'v2', BASE_TIMESTAMP + 2, UNDEFINED);
    latestIs('k', 'v2', BASE_TIMESTAMP + 2);
    asOfIsNull('k', BASE_TIMESTAMP + 1);
    store.delete('k', BASE_TIMESTAMP + 3);
    latestIsNull('k');
    put('k2', 'v', BASE_TIMESTAMP + 2, PUT_RETURN_CODE_NOT_PUT);
    latestIsNull('k2');
  });
});

describe('versioned key-value store: history kept within retention only', () => {
  it('versions no read within the retention can reach are swept out, the latest never', () => {
    store = new InMemoryVersionedKeyValueStore('versioned', { historyRetentionMs: 100, segmentIntervalMs: 10 });
    put('k', 'a', 0, UNDEFINED);
    put('k', 'b', 50, UNDEFINED);
    put('old', 'x', 10, UNDEFINED);
    put('other', 'o', 200, UNDEFINED);
    // The bound is 100: 'a' (valid until 50) can no longer be read, 'b' still answers a read at 100.
    expect(store.versionsOf('k')).toEqual([{ timestamp: 50, value: 'b' }]);
    expect(store.versionsOf('old')).toEqual([{ timestamp: 10, value: 'x' }]);
    asOfIs('k', 100, 'b', 50, UNDEFINED);
    expect(store.all()).toEqual([{ key: 'k', value: { value: 'b', timestamp: 50 } }, { key: 'old', value: { value: 'x', timestamp: 10 } }, { key: 'other', value: { value: 'o', timestamp: 200 } }]);
  });

  it('records every version and every sweep in its change log: a swept version as null, a deletion as a version holding null', () => {
    store = new InMemoryVersionedKeyValueStore('versioned', { historyRetentionMs: 100, segmentIntervalMs: 10 });
    store.changes.enabled = true;
    store.put('k', 'a', 0);
    store.put('k', null, 5);
    store.put('k', 'c', 300);
    expect(store.changes.take().map((c) => [c.id, c.value])).toEqual([['0|k', null], ['5|k', { value: null }], ['300|k', { value: 'c' }]]);
  });
});
