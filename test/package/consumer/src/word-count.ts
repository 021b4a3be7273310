// A user's topology file, as a new project writes it: run by `tributary run` (through tsx) and
// compiled by tsc for src/app.ts.
import { Serdes, topology, type DemoRecord } from 'tributary';

export default topology({ applicationId: 'consumer-word-count', description: 'counts words' }, (builder) => {
  builder
    .stream('lines', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .flatMapValues((line) => line.toLowerCase().split(/\W+/).filter((word) => word.length > 0))
    .groupBy((_key, word) => word, { valueSerde: Serdes.string() })
    .count({ storeName: 'counts' })
    .toStream()
    .to('counts', { keySerde: Serdes.string(), valueSerde: Serdes.int64() });
});

const LINES = ['hello kafka streams', 'hello typescript'];

export function* demo(count = 200): Generator<DemoRecord> {
  for (let i = 0; i < count; i++) yield { topic: 'lines', key: `line-${i}`, value: LINES[i % LINES.length] ?? '', timestamp: 1_000 + i };
}
