/**
 * Repeated crashes of the process that owns a task upstream of a repartition topic, with input
 * still arriving (issue 12); the workload is in word-count-crashes.ts. A replayed splitting task
 * writes its words to the repartition topic again; without the positions those records carry,
 * the counting task would count them twice.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { CI_WORKLOAD, cleanUpCrashRuns, differences, notIncreasing, runCrashes } from './word-count-crashes.ts';

afterAll(cleanUpCrashRuns);

describe('repeated crashes of a repartitioned topology', () => {
  it(`at-least-once: ${CI_WORKLOAD.kills} SIGKILLs with input arriving, and state and every word's last count are exact`, async () => {
    const { truth, lines, outputs, redis, echoed, purged } = await runCrashes('at-least-once');
    // Committed records were deleted from the repartition topic while runners were being killed.
    expect(purged).toBeGreaterThan(0);
    // The splitting task's own output may repeat after a crash, but loses nothing.
    expect(echoed.size).toBe(lines);
    const last = new Map([...outputs].map(([word, counts]) => [word, counts.at(-1)!]));
    expect(differences(truth, last)).toEqual([]);
    expect(differences(truth, redis)).toEqual([]);
    // Outputs may repeat under at-least-once, but never with a count above the truth.
    for (const [word, counts] of outputs) expect(Math.max(...counts), word).toBe(truth.get(word));
  }, 300_000);

  it(`exactly-once: ${CI_WORKLOAD.kills} SIGKILLs with input arriving, and every word's committed outputs are exactly 1..n`, async () => {
    const { truth, lines, outputs, redis, echoed, purged } = await runCrashes('exactly-once');
    expect(purged).toBeGreaterThan(0);
    expect(differences(truth, redis)).toEqual([]);
    // The splitting task's own output: every line exactly once (a task resumed from stale offsets repeats some).
    expect(echoed.size).toBe(lines);
    expect([...echoed].filter(([, n]) => n !== 1).map(([line, n]) => `${line} ×${n}`)).toEqual([]);
    const wrong = [...truth].filter(([word, count]) => {
      const counts = outputs.get(word) ?? [];
      return counts.length !== count || counts.some((c, i) => c !== i + 1);
    });
    expect(wrong.map(([word, count]) => `${word}: ${outputs.get(word)?.length ?? 0} outputs for ${count}`)).toEqual([]);
  }, 300_000);

  it(`exactly-once with the record cache: ${CI_WORKLOAD.kills} SIGKILLs, and every word's committed outputs strictly increase to the truth`, async () => {
    const { truth, lines, outputs, redis, echoed } = await runCrashes('exactly-once', { ...CI_WORKLOAD, recordCache: true });
    expect(differences(truth, redis)).toEqual([]);
    expect(echoed.size).toBe(lines);
    expect([...echoed].filter(([, n]) => n !== 1).map(([line, n]) => `${line} ×${n}`)).toEqual([]);
    const last = new Map([...outputs].map(([word, counts]) => [word, counts.at(-1)!]));
    expect(differences(truth, last)).toEqual([]);
    // A replayed commit would repeat a merged value, or send an older one after a newer.
    expect(notIncreasing(outputs)).toEqual([]);
    // The cache merged updates: fewer outputs than words counted (checks that it was on).
    const outputCount = [...outputs.values()].reduce((sum, counts) => sum + counts.length, 0);
    expect(outputCount).toBeLessThan([...truth.values()].reduce((a, b) => a + b, 0));
  }, 300_000);

  it('three runners, 4 kills each of a runner owning splitting tasks: state and every word\'s last count are exact', async () => {
    const { truth, lines, outputs, redis, echoed, upstreamKills } = await runCrashes('at-least-once', { ...CI_WORKLOAD, kills: 4, stableRunners: 2 });
    expect(upstreamKills).toBeGreaterThanOrEqual(2);
    expect(echoed.size).toBe(lines);
    const last = new Map([...outputs].map(([word, counts]) => [word, counts.at(-1)!]));
    expect(differences(truth, last)).toEqual([]);
    expect(differences(truth, redis)).toEqual([]);
  }, 300_000);
});
