/**
 * The stateless workload of bench/kafka-streams-peer.ts, as its Java side has it: clicks
 * {id, user, page, ms} from PEER_INPUT, those with ms ≥ 350 kept and given seconds = ms / 1000,
 * to PEER_OUTPUT; run with `tributary run`.
 */
import { Serdes, topology } from 'tributary';

interface Click {
  id: string;
  user: string;
  page: string;
  ms: number;
}

const input = process.env.PEER_INPUT ?? 'clicks';
const output = process.env.PEER_OUTPUT ?? 'slow-clicks';

export default topology({ applicationId: 'peer-json-filter', description: `slow clicks of ${input} into ${output}` }, (builder) => {
  builder
    .stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.json<Click>() })
    .filter((_key, click) => click.ms >= 350)
    .mapValues((click) => ({ ...click, seconds: click.ms / 1000 }))
    .to(output, { keySerde: Serdes.string(), valueSerde: Serdes.json() });
});
