/*
 * Ported from Kafka Streams' RocksDBVersionedStoreTest, the multi-version reads of KIP-968
 * (`get(key, fromTime, toTime, order)`, what `MultiVersionedKeyQuery` runs): the same puts and the
 * same expected versions, in the same order. Kafka's `ResultOrder.ANY` comes back newest first, as
 * `getVersions` does by default; `Long.MIN_VALUE`/`Long.MAX_VALUE` bounds are left out here.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { InMemoryVersionedKeyValueStore, PUT_RETURN_CODE_VALID_TO_UNDEFINED, type VersionsQuery } from 'tributary';

const HISTORY_RETENTION = 300_000;
const SEGMENT_INTERVAL = HISTORY_RETENTION / 3;
const UNDEFINED = PUT_RETURN_CODE_VALID_TO_UNDEFINED;

let store: InMemoryVersionedKeyValueStore<string, string>;
beforeEach(() => {
  store = new InMemoryVersionedKeyValueStore('versioned', { historyRetentionMs: HISTORY_RETENTION, segmentIntervalMs: SEGMENT_INTERVAL });
});

function put(key: string, value: string | null, timestamp: number, expectedValidTo: number): void {
  expect(store.put(key, value, timestamp), `put(${key}, ${value}, ${timestamp})`).toBe(expectedValidTo);
}

/** Kafka's `verifyTimestampedGetValueFromStore(key, from, to, order, values, timestamps, validTos)`. */
function versionsAre(key: string, query: VersionsQuery, values: string[], timestamps: number[], validTos: number[]): void {
  const expected = values.map((value, i) => (validTos[i] === UNDEFINED ? { value, timestamp: timestamps[i]! } : { value, timestamp: timestamps[i]!, validTo: validTos[i]! }));
  expect(store.getVersions(key, query), `getVersions(${key}, ${JSON.stringify(query)})`).toEqual(expected);
}

/** Kafka's `verifyTimestampedGetNullFromStore(key, from, to)`. */
function noVersions(key: string, fromTime: number, toTime: number): void {
  expect(store.getVersions(key, { fromTime, toTime }), `getVersions(${key}, ${fromTime}, ${toTime})`).toEqual([]);
}

const S = SEGMENT_INTERVAL;

describe('multi-version reads of a versioned store (ported from RocksDBVersionedStoreTest)', () => {
  it('shouldGetRecordVersionsFromOlderSegments: every value version valid in the range, tombstones left out', () => {
    put('ko', null, S - 10, UNDEFINED);
    put('ko', null, 2 * S - 10, UNDEFINED);
    put('ko', null, 3 * S - 10, UNDEFINED);
    noVersions('k', S - 20, S);

    put('k', 'v1', S - 30, UNDEFINED);
    put('k', 'v2', S - 25, UNDEFINED);
    put('k', null, S - 20, UNDEFINED);
    put('k', null, S - 15, UNDEFINED);
    put('k', 'v3', S - 10, UNDEFINED);
    put('k', 'v4', S - 5, UNDEFINED);

    noVersions('k', S - 40, S - 35);
    versionsAre('k', { fromTime: S - 30, toTime: S - 5 }, ['v4', 'v3', 'v2', 'v1'], [S - 5, S - 10, S - 25, S - 30], [UNDEFINED, S - 5, S - 20, S - 25]);
    versionsAre('k', {}, ['v4', 'v3', 'v2', 'v1'], [S - 5, S - 10, S - 25, S - 30], [UNDEFINED, S - 5, S - 20, S - 25]);
    versionsAre('k', { fromTime: S - 4, toTime: S }, ['v4'], [S - 5], [UNDEFINED]);
    versionsAre('k', { fromTime: S - 5, toTime: S - 5 }, ['v4'], [S - 5], [UNDEFINED]);
    versionsAre('k', { fromTime: S - 4, toTime: S - 4 }, ['v4'], [S - 5], [UNDEFINED]);
    versionsAre('k', { fromTime: S - 31, toTime: S - 21 }, ['v2', 'v1'], [S - 25, S - 30], [S - 20, S - 25]);
    versionsAre('k', { fromTime: S - 24, toTime: S - 11 }, ['v2'], [S - 25], [S - 20]);
    versionsAre('k', { fromTime: S - 11, toTime: S - 4 }, ['v4', 'v3'], [S - 5, S - 10], [UNDEFINED, S - 5]);
    versionsAre('k', { fromTime: S - 26, toTime: S - 5 }, ['v4', 'v3', 'v2', 'v1'], [S - 5, S - 10, S - 25, S - 30], [UNDEFINED, S - 5, S - 20, S - 25]);
    versionsAre('k', { fromTime: S - 15, toTime: S - 10 }, ['v3'], [S - 10], [S - 5]);
    noVersions('k', S - 19, S - 16);

    put('k', 'v5', 3 * S - 30, UNDEFINED);
    put('k', null, 3 * S - 20, UNDEFINED);
    noVersions('k', S - 40, S - 35);
    versionsAre('k', { fromTime: S - 30, toTime: S - 26 }, ['v1'], [S - 30], [S - 25]);
    noVersions('k', S - 19, S - 16);
  });

  it('shouldGetRecordVersionsInAscendingOrder', () => {
    put('k', 'v1', S - 30, UNDEFINED);
    put('k', 'v2', S - 25, UNDEFINED);
    put('k', 'v3', S - 10, UNDEFINED);
    put('k', 'v4', S - 5, UNDEFINED);
    versionsAre('k', { fromTime: S - 30, toTime: S - 5, order: 'ascending' }, ['v1', 'v2', 'v3', 'v4'], [S - 30, S - 25, S - 10, S - 5], [S - 25, S - 10, S - 5, UNDEFINED]);
  });

  it('shouldGetRecordVersionsFromMultipleOldSegmentsInAscendingOrder', () => {
    put('k', 'v1', S - 10, UNDEFINED);
    put('k', 'v2', S - 5, UNDEFINED);
    put('k', 'v3', 2 * S - 10, UNDEFINED);
    put('k', 'v4', 2 * S - 5, UNDEFINED);
    versionsAre('k', { order: 'ascending' }, ['v1', 'v2', 'v3', 'v4'], [S - 10, S - 5, 2 * S - 10, 2 * S - 5], [S - 5, 2 * S - 10, 2 * S - 5, UNDEFINED]);
  });

  it('shouldNotGetExpiredRecordVersions: a range ending before the history retention finds nothing but a qualifying latest version', () => {
    put('k', 'v_old', 0, UNDEFINED);
    put('k', 'v', S - 10, UNDEFINED);
    versionsAre('k', { fromTime: 0, toTime: S - 11 }, ['v_old'], [0], [S - 10]);
    put('ko', 'vo', HISTORY_RETENTION + S - 11, UNDEFINED);
    versionsAre('k', { fromTime: 0, toTime: S - 11 }, ['v_old'], [0], [S - 10]);
    put('ko', 'vo2', HISTORY_RETENTION + S - 10, UNDEFINED);
    noVersions('k', 0, S - 11);
  });

  it('shouldGetExpiredIfLatestVersionValue: the latest version answers however old the range', () => {
    put('k', 'v', 1, UNDEFINED);
    put('ko', 'vo_old', 1, UNDEFINED);
    put('ko', 'vo_new', HISTORY_RETENTION + 12, UNDEFINED);
    versionsAre('k', { fromTime: 0, toTime: 10 }, ['v'], [1], [UNDEFINED]);
    noVersions('ko', 0, 10);
  });
});
