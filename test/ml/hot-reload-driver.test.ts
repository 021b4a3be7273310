import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelRegistry, Serdes, StreamsBuilder, TopologyTestDriver, type ClassifierOutput, type Prediction, type ReloadEvent } from 'tributary';

interface Holdout { records: Record<string, number>[]; probabilities: number[][] }
const holdouts: Record<string, Holdout> = {
  '1': JSON.parse(readFileSync('models/fraud/1/holdout.json', 'utf8')) as Holdout,
  '2': JSON.parse(readFileSync('models/fraud/2/holdout.json', 'utf8')) as Holdout,
};
// Both versions were scored on the same held-out rows, so a score tells which version produced it.
const rows = holdouts['1']!.records;

type Scored = Record<string, number> & { seq: number; prediction: Prediction<ClassifierOutput> };

describe('hot reload through the test driver', () => {
  let dir: string | undefined;
  let registry: ModelRegistry | undefined;
  afterEach(async () => {
    await registry?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('a version installed mid-stream takes over: every record is scored exactly once, by 1 before the switch and by 2 after; removing 2 switches back', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tributary-hot-reload-'));
    cpSync('models/fraud/1', join(dir, 'fraud', '1'), { recursive: true });
    const reloads: ReloadEvent[] = [];
    const errors: Error[] = [];
    registry = await ModelRegistry.open(dir, { pollIntervalMs: 20, onReload: (e) => reloads.push(e), onError: (e) => errors.push(e) });

    const builder = new StreamsBuilder();
    builder.stream('payments', { valueSerde: Serdes.json<Record<string, number>>() })
      .predict(registry.model<Record<string, number>, ClassifierOutput>('fraud'), { maxBatchSize: 16, maxDelayMs: 2 })
      .to('scored');
    const driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('payments', Serdes.string(), Serdes.json<Record<string, number>>());
    const output = driver.createOutputTopic('scored', Serdes.string(), Serdes.json<Scored>());

    let seq = 0;
    /** Pipes a burst of records at once, so that batches are in flight while the registry switches. */
    const burst = async (size = 8): Promise<number[]> => {
      const sent = Array.from({ length: size }, () => seq++);
      await Promise.all(sent.map((s) => input.pipeInput(`k${s}`, { ...rows[s % rows.length]!, seq: s })));
      return sent;
    };
    const until = async (done: () => boolean): Promise<number[]> => {
      const sent: number[] = [];
      const deadline = Date.now() + 15_000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error('the registry did not switch within 15 s');
        sent.push(...(await burst()));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      return sent;
    };

    const before: number[] = [];
    for (let i = 0; i < 20; i++) before.push(...(await burst()));

    // install version 2 atomically: copy next to the versions (a non-numeric folder is ignored), then rename
    cpSync('models/fraud/2', join(dir, 'fraud', '.incoming-2'), { recursive: true });
    renameSync(join(dir, 'fraud', '.incoming-2'), join(dir, 'fraud', '2'));
    const during = await until(() => reloads.length >= 1);
    const after: number[] = [];
    for (let i = 0; i < 20; i++) after.push(...(await burst()));

    // remove version 2: the model goes back to 1
    rmSync(join(dir, 'fraud', '2'), { recursive: true });
    const removing = await until(() => reloads.length >= 2);
    const back: number[] = [];
    for (let i = 0; i < 10; i++) back.push(...(await burst()));

    expect(reloads).toEqual([{ model: 'fraud', from: '1', to: '2' }, { model: 'fraud', from: '2', to: '1' }]);
    expect(errors).toEqual([]);

    const scored = output.readKeyValuesToList();
    // exactly once, in input order
    expect(scored.map((r) => r.value.seq)).toEqual(Array.from({ length: seq }, (_, i) => i));
    expect(scored.map((r) => r.key)).toEqual(scored.map((r) => `k${r.value.seq}`));

    const versionOf = new Map(scored.map((r) => [r.value.seq, r.value.prediction.version]));
    // each record carries the version that really scored it (scikit-learn's probability for that version)
    for (const { value } of scored) {
      const expected = holdouts[value.prediction.version]!.probabilities[value.seq % rows.length]![1]!;
      expect(Math.abs(value.prediction.score - expected)).toBeLessThan(1e-5);
    }
    expect(before.every((s) => versionOf.get(s) === '1')).toBe(true);
    expect(after.every((s) => versionOf.get(s) === '2')).toBe(true);
    expect(back.every((s) => versionOf.get(s) === '1')).toBe(true);
    // one switch point each way: versions never interleave
    const sequence = scored.map((r) => r.value.prediction.version).join('');
    expect(sequence).toMatch(/^1+2+1+$/);
    expect(during.length + removing.length).toBeGreaterThan(0);
    await driver.close();
  }, 30_000);
});
