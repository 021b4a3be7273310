/**
 * Closing a session runner while runs are in flight: onnxruntime-node runs a session on its own
 * thread, and releasing the session under a run ended in a native abort that killed the process
 * ("terminate called after throwing an instance of 'Napi::Error'"). close() now waits for the runs.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InlineSessionRunner } from '../../src/ml/session-runner.ts';

const model = fileURLToPath(new URL('../../models/fraud/1/model.onnx', import.meta.url));

describe('closing an ONNX session runner', () => {
  it('lets the runs in flight finish before the session is released', async () => {
    const runner = new InlineSessionRunner({ path: model });
    await runner.load();
    const rows = 200_000;
    const feeds = () => ({ float_input: { type: 'float32' as const, data: new Float32Array(rows * 7).map((_, i) => (i % 13) / 13), dims: [rows, 7] } });
    const runs = Array.from({ length: 4 }, () => runner.run(feeds()));
    await runner.close();
    const outcomes = await Promise.allSettled(runs);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    const first = (outcomes[0] as PromiseFulfilledResult<Record<string, { dims: number[] }>>).value;
    expect(first.label!.dims[0]).toBe(rows);
    // After the close, a run is refused with an error, not a crash.
    await expect(runner.run(feeds())).rejects.toThrow(/not loaded/);
  });
});
