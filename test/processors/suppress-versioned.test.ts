/*
 * Ported from Kafka Streams' SuppressTopologyTest: suppress() is refused on a versioned table,
 * whether it is materialized as a versioned store or inherits versioning from its source
 * (shouldThrowOnSuppressForMaterializedVersionedTable, shouldThrowOnSuppressForNonMaterializedVersionedTable;
 * Kafka throws the latter at build(), Tributary when suppress() is declared).
 */
import { describe, expect, it } from 'vitest';
import { Materialized, Serdes, StreamsBuilder, Stores, Suppressed } from 'tributary';

const consumed = { keySerde: Serdes.string(), valueSerde: Serdes.string() };
const message = /^suppress\(\) is only supported for non-versioned KTables \(note that version semantics might be inherited from upstream\)/;

describe('SuppressTopologyTest, versioned tables', () => {
  it('SuppressTopologyTest.shouldThrowOnSuppressForMaterializedVersionedTable', () => {
    const builder = new StreamsBuilder();
    const versionedTable = builder.table<string, string>('input', consumed, Materialized.as(Stores.persistentVersionedKeyValueStore('store', 0)));
    expect(() => versionedTable.suppress(Suppressed.untilTimeLimit(0))).toThrow(message);
  });

  it('SuppressTopologyTest.shouldThrowOnSuppressForNonMaterializedVersionedTable', () => {
    const builder = new StreamsBuilder();
    const filtered = builder.table<string, string>('input', consumed, Materialized.as(Stores.persistentVersionedKeyValueStore('store', 0))).filter(() => true);
    expect(() => filtered.suppress(Suppressed.untilTimeLimit(0))).toThrow(message);
  });

  it('a derived table materialized as a versioned store is refused too; materialized unversioned, it may be suppressed', () => {
    const builder = new StreamsBuilder();
    const table = builder.table<string, string>('input', consumed);
    expect(() => table.mapValues((v) => v, Materialized.as(Stores.persistentVersionedKeyValueStore('history', '1h'))).suppress(Suppressed.untilTimeLimit(0))).toThrow(message);
    const versioned = builder.table<string, string>('input2', consumed, Materialized.as(Stores.persistentVersionedKeyValueStore('store2', '1h')));
    expect(() => versioned.filter(() => true, Materialized.as('latest-only')).suppress(Suppressed.untilTimeLimit(0))).not.toThrow();
  });
});
