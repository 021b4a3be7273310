/**
 * Word count, the classic: split lines into words, count each word, and write the updated counts
 * (each word's latest count at every commit; `--cache-max-entries 0` writes every update).
 *
 *   text-lines (key: any, value: a line) → words → group by word → count → word-counts (word → count)
 */
import { Serdes, topology, type DemoRecord } from 'tributary';

export default topology({ applicationId: 'word-count', description: 'counts words in lines of text', topics: { 'text-lines': { partitions: 4 } } }, (builder) => {
  builder
    .stream('text-lines', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .flatMapValues((line) => line.toLowerCase().split(/\W+/).filter((word) => word.length > 0))
    .groupBy((_key, word) => word, { valueSerde: Serdes.string() })
    .count({ storeName: 'word-counts' })
    .toStream()
    .to('word-counts', { keySerde: Serdes.string(), valueSerde: Serdes.int64() });
});

const LINES = [
  'all streams lead to kafka',
  'hello kafka streams',
  'join kafka summit',
  'the quick brown fox jumps over the lazy dog',
  'streams of events flow like rivers into the sea',
];

/** Sample input: lines of text, cycling through a few sentences. */
export function* demo(count = 5_000): Generator<DemoRecord> {
  for (let i = 0; i < count; i++) yield { topic: 'text-lines', key: `line-${i}`, value: LINES[i % LINES.length]!, timestamp: 1_700_000_000_000 + i };
}
