/**
 * Records the broker would refuse because of what they are — a timestamp out of the topic's
 * `message.timestamp.*.max.ms` window, a size over the topic's own `max.message.bytes` — go to the
 * dead-letter topic with the reason, and the records around them are written, in both
 * guarantees. Without the checks the broker refuses the whole batch (INVALID_TIMESTAMP,
 * MESSAGE_TOO_LARGE), the runner stops, and its restart meets the same record again.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Serdes, StreamsBuilder } from 'tributary';
import { createTopic, produce, readAll, testApps, unique, waitUntil } from './kafka-helpers.ts';

const HOUR = 3_600_000;
const GUARANTEES = ['at-least-once', 'exactly-once'] as const;
const { app, closeAll } = testApps();

afterAll(closeAll);

describe.each(GUARANTEES)('records the broker would refuse (%s)', (guarantee) => {
  it("dead-letters outputs whose timestamp is outside the output topic's window, and writes the others", async () => {
    const input = unique('ts-in');
    const output = unique('ts-out');
    // The input takes any timestamp; the output keeps Kafka 4's default window (1 h ahead, set
    // here so that a 3.9 broker, whose default is unbounded, refuses the same records) and a 1 day
    // window behind.
    await createTopic(input, 1, { 'message.timestamp.after.max.ms': String(Number.MAX_SAFE_INTEGER), 'message.timestamp.before.max.ms': String(Number.MAX_SAFE_INTEGER) });
    await createTopic(output, 1, { 'message.timestamp.after.max.ms': String(HOUR), 'message.timestamp.before.max.ms': String(24 * HOUR) });
    const builder = new StreamsBuilder();
    builder.stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.string() }).mapValues((v) => v.toUpperCase()).to(output, { keySerde: Serdes.string(), valueSerde: Serdes.string() });
    const now = Date.now();
    await produce(input, [
      { key: 'now', value: 'a', timestamp: now },
      { key: 'future', value: 'b', timestamp: now + 2 * HOUR },
      { key: 'soon', value: 'c', timestamp: now + HOUR / 2 },
      { key: 'past', value: 'd', timestamp: now - 2 * 24 * HOUR },
      { key: 'after', value: 'e', timestamp: now },
    ]);
    const id = unique('refused-ts');
    const streams = app(builder.build(), id, { processingGuarantee: guarantee });
    await streams.start();
    await waitUntil('three outputs', async () => (await readAll(output)).length === 3, 60_000, 300);
    await waitUntil('two dead letters', async () => (await readAll(`${id}-dlq`)).length === 2, 30_000, 300);
    expect(streams.state).toBe('RUNNING');
    await streams.close();
    expect((await readAll(output)).map((m) => [m.key, m.value])).toEqual([['now', 'A'], ['soon', 'C'], ['after', 'E']]);
    const dead = await readAll(`${id}-dlq`);
    expect(dead.map((m) => m.key)).toEqual(['future', 'past']);
    expect(dead[0]!.headers).toMatchObject({ stage: 'produce', topic: input, offset: '1' });
    expect(dead[0]!.headers.error).toMatch(/timestamp .* is more than 3600000 ms ahead of now.*message\.timestamp\.after\.max\.ms/);
    expect(dead[1]!.headers).toMatchObject({ stage: 'produce', topic: input, offset: '3' });
    expect(dead[1]!.headers.error).toMatch(/timestamp .* is more than 86400000 ms behind now.*message\.timestamp\.before\.max\.ms/);
  });

  it("dead-letters an output over the output topic's own max.message.bytes, and never sends a batch over it", async () => {
    const input = unique('size-in');
    const output = unique('size-out');
    await createTopic(input, 1);
    await createTopic(output, 1, { 'max.message.bytes': '64000' });
    const builder = new StreamsBuilder();
    builder
      .stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.json<{ size: number }>() })
      .mapValues((d) => 'x'.repeat(d.size))
      .to(output, { keySerde: Serdes.string(), valueSerde: Serdes.string() });
    // Eight 30 kB records in a row to one partition: 240 kB, more than the topic takes in one batch.
    const sizes = [30_000, 30_000, 30_000, 30_000, 100_000, 30_000, 30_000, 30_000, 30_000];
    await produce(input, sizes.map((size, i) => ({ key: `r${i}`, value: JSON.stringify({ size }) })));
    const id = unique('refused-size');
    const streams = app(builder.build(), id, { processingGuarantee: guarantee });
    await streams.start();
    await waitUntil('eight outputs', async () => (await readAll(output)).length === 8, 60_000, 300);
    await waitUntil('one dead letter', async () => (await readAll(`${id}-dlq`)).length === 1, 30_000, 300);
    expect(streams.state).toBe('RUNNING');
    await streams.close();
    expect((await readAll(output)).map((m) => m.key)).toEqual(['r0', 'r1', 'r2', 'r3', 'r5', 'r6', 'r7', 'r8']);
    const dead = await readAll(`${id}-dlq`);
    expect(dead[0]!.key).toBe('r4');
    expect(dead[0]!.headers).toMatchObject({ stage: 'produce', topic: input, offset: '4' });
    expect(dead[0]!.headers.error).toMatch(/is 100002 bytes, more than .* bytes .*max\.message\.bytes=64000/);
  });
});
