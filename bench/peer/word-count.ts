/**
 * topologies/word-count.ts with its topics named by the environment (PEER_INPUT, PEER_OUTPUT), so
 * that bench/kafka-streams-peer.ts can give every run fresh ones; run with `tributary run`.
 */
import { Serdes, topology } from 'tributary';

const input = process.env.PEER_INPUT ?? 'text-lines';
const output = process.env.PEER_OUTPUT ?? 'word-counts';

export default topology({ applicationId: 'peer-word-count', description: `counts the words of ${input} into ${output}` }, (builder) => {
  builder
    .stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .flatMapValues((line) => line.toLowerCase().split(/\W+/).filter((word) => word.length > 0))
    .groupBy((_key, word) => word, { valueSerde: Serdes.string() })
    .count({ storeName: 'word-counts' })
    .toStream()
    .to(output, { keySerde: Serdes.string(), valueSerde: Serdes.int64() });
});
