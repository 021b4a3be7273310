/*
 * The Java collection orders that Kafka Streams' TopologyDescription depends on, checked against
 * what Java itself printed for the same input (java H.java, OpenJDK on this machine).
 */
import { describe, expect, it } from 'vitest';
import { JavaTreeSet, javaHashOrder } from '../../src/topology/java-order.ts';

describe('Java collection orders', () => {
  it('a HashSet<String> iterates by hash bucket at its final capacity, then insertion order', () => {
    const names = ['KSTREAM-SOURCE-0000000000', 'KSTREAM-MAP-0000000001', 'KSTREAM-FILTER-0000000002', 'count-stream-repartition-filter', 'count-stream-repartition-sink', 'KSTREAM-SINK-0000000012', 'joined-stream-this-windowed', 'KSTREAM-PEEK-0000000021', 'aggregate-stream-repartition-sink', 'x', 'y', 'z', 'KTABLE-TOSTREAM-0000000011', 'reduced-stream-repartition-filter'];
    // 14 names: the set resized from 16 to 32 buckets on the 13th.
    expect(javaHashOrder(names)).toEqual(['KSTREAM-SOURCE-0000000000', 'KSTREAM-PEEK-0000000021', 'count-stream-repartition-filter', 'KSTREAM-FILTER-0000000002', 'KTABLE-TOSTREAM-0000000011', 'reduced-stream-repartition-filter', 'KSTREAM-SINK-0000000012', 'aggregate-stream-repartition-sink', 'x', 'y', 'z', 'count-stream-repartition-sink', 'KSTREAM-MAP-0000000001', 'joined-stream-this-windowed']);
  });

  it('a TreeSet keeps the places its items got from the comparator of the moment, as a red-black tree does', () => {
    const size = new Map(['a', 'b', 'c', 'd', 'e'].map((n) => [n, 1]));
    const set = new JavaTreeSet<string>((x, y) => (x === y ? 0 : size.get(y)! - size.get(x)! || (x < y ? -1 : 1)));
    set.add('c');
    size.set('c', 5);
    set.add('a');
    size.set('a', 9);
    set.add('e');
    set.add('b');
    size.set('e', 7);
    set.add('d');
    expect(set.items()).toEqual(['c', 'a', 'b', 'e', 'd']);
  });
});
