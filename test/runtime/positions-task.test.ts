import { describe, expect, it } from 'vitest';
import { Serdes, TopologyTestDriver } from 'tributary';
import { LEGACY_POSITION_HEADER, POSITION_HEADER, writerOf } from '../../src/runtime/positions.ts';
import wordCount from '../../topologies/word-count.ts';

const REPARTITION = 'word-count-word-counts-repartition';

describe('positions on a repartition topic, through the tasks', () => {
  it('writes the compact header, and the reader skips replays in either format across an upgrade', async () => {
    const driver = new TopologyTestDriver(wordCount.build(), { applicationId: 'word-count' });
    const lines = driver.createInputTopic('text-lines', Serdes.string(), Serdes.string());
    const repartition = driver.createInputTopic(REPARTITION, Serdes.string(), Serdes.string());
    const written = driver.createOutputTopic(REPARTITION, Serdes.string(), Serdes.string());
    const store = (): number | undefined => driver.getKeyValueStore<string, number>('word-counts')?.get('kafka');

    await lines.pipeInput('l1', 'hello kafka', 1_000);
    const headers = written.readRecordsToList().map((r) => r.headers);
    const w = writerOf('0_0', 'text-lines', 0);
    expect(headers).toEqual([{ [POSITION_HEADER]: `${w}/0/0` }, { [POSITION_HEADER]: `${w}/0/1` }]);
    expect(store()).toBe(1);

    // Records an earlier version wrote for input offsets 5 and 6 of text-lines, read once each.
    const legacy = (offset: number, index: number): Record<string, string> => ({ [LEGACY_POSITION_HEADER]: `0_0/text-lines:0/${offset}/${index}` });
    await repartition.pipeInput('kafka', 'kafka', 2_000, legacy(5, 0));
    await repartition.pipeInput('kafka', 'kafka', 2_000, legacy(5, 0)); // its replay
    expect(store()).toBe(2);
    // The upgraded writer replays offset 5 compactly: already applied. Offset 6 is new.
    await repartition.pipeInput('kafka', 'kafka', 2_000, { [POSITION_HEADER]: `${w}/5/0` });
    expect(store()).toBe(2);
    await repartition.pipeInput('kafka', 'kafka', 2_000, { [POSITION_HEADER]: `${w}/6/0` });
    await repartition.pipeInput('kafka', 'kafka', 2_000, legacy(6, 0));
    expect(store()).toBe(3);
    await driver.close();
  });
});
