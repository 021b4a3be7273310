import { describe, expect, it } from 'vitest';
import { Serdes, StreamsBuilder, TopologyError, TopologyTestDriver, type StreamRecord } from 'tributary';

function run(define: (b: StreamsBuilder) => void, options: { errorHandling?: 'fail' | 'dead-letter' } = {}) {
  const builder = new StreamsBuilder();
  define(builder);
  const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app', ...options });
  const input = driver.createInputTopic('in', Serdes.string(), Serdes.json<number>());
  const out = (topic = 'out') => driver.createOutputTopic(topic, Serdes.string(), Serdes.json()).readRecordsToList();
  return { driver, input, out };
}

describe('stateless operators', () => {
  it('filter and filterNot keep records whose predicate is true / false', async () => {
    const { input, out } = run((b) => {
      const s = b.stream<string, number>('in');
      s.filter((_k, v) => v > 1).to('out');
      s.filterNot((_k, v) => v > 1).to('out2');
    });
    await input.pipeKeyValueList([['a', 1], ['b', 2]]);
    expect(out().map((r) => r.key)).toEqual(['b']);
    expect(out('out2').map((r) => r.key)).toEqual(['a']);
  });

  it('map, mapValues, selectKey, flatMap and flatMapValues keep the input timestamp and headers', async () => {
    const { input, out } = run((b) => {
      const s = b.stream<string, number>('in');
      s.map((k, v) => [`${k}!`, v * 10]).to('out');
      s.mapValues((v, k) => `${k}=${v}`).to('mv');
      s.selectKey((_k, v) => `n${v}`).to('sk');
      s.flatMap((k, v) => [[k, v], [k, v + 1]]).to('fm');
      s.flatMapValues((v) => [v, v, v]).to('fmv');
    });
    await input.pipeInput('a', 1, 500, { trace: 't1' });
    expect(out()).toEqual([{ key: 'a!', value: 10, timestamp: 500, headers: { trace: 't1' } }]);
    expect(out('mv').map((r) => r.value)).toEqual(['a=1']);
    expect(out('sk').map((r) => r.key)).toEqual(['n1']);
    expect(out('fm').map((r) => [r.value, r.timestamp])).toEqual([[1, 500], [2, 500]]);
    expect(out('fmv')).toHaveLength(3);
  });

  it('peek and foreach see every record; merge interleaves in processing order', async () => {
    const seen: string[] = [];
    const { driver, out } = run((b) => {
      const a = b.stream<string, number>('in').peek((k) => seen.push(`peek ${k}`));
      const c = b.stream<string, number>('in2');
      a.merge(c).to('out');
      c.foreach((k) => seen.push(`foreach ${k}`));
    });
    await driver.createInputTopic('in', Serdes.string(), Serdes.json<number>()).pipeInput('x', 1, 1);
    await driver.createInputTopic('in2', Serdes.string(), Serdes.json<number>()).pipeInput('y', 2, 2);
    expect(out().map((r) => r.key)).toEqual(['x', 'y']);
    expect(seen).toEqual(['peek x', 'foreach y']);
  });

  it('split sends a record only to the first matching branch, unmatched ones to the default branch', async () => {
    let branches: Record<string, unknown> = {};
    const { input, out } = run((b) => {
      branches = b.stream<string, number>('in').split({ name: 'n-' })
        .branch((_k, v) => v > 10, { name: 'big', to: 'big' })
        .branch((_k, v) => v > 5, { to: 'medium' })
        .defaultBranch({ to: 'out' });
    });
    await input.pipeKeyValueList([['a', 20], ['b', 7], ['c', 1]]);
    expect(Object.keys(branches)).toEqual(['n-big', 'n-2', 'n-0']);
    expect(out('big').map((r) => r.key)).toEqual(['a']);
    expect(out('medium').map((r) => r.key)).toEqual(['b']);
    expect(out().map((r) => r.key)).toEqual(['c']);
  });

  it('to() with a topic extractor picks the topic per record', async () => {
    const { input, out } = run((b) => b.stream<string, number>('in').to((_k, v) => (v % 2 === 0 ? 'even' : 'odd')));
    await input.pipeKeyValueList([['a', 1], ['b', 2]]);
    expect(out('even').map((r) => r.key)).toEqual(['b']);
    expect(out('odd').map((r) => r.key)).toEqual(['a']);
  });

  it('toObservable emits every record of the stream', async () => {
    const got: StreamRecord<string, number>[] = [];
    const { input } = run((b) => b.stream<string, number>('in').toObservable().subscribe((r) => got.push(r)));
    await input.pipeInput('a', 5, 9);
    expect(got.map((r) => [r.key, r.value, r.timestamp, r.topic, r.offset])).toEqual([['a', 5, 9, 'in', 0]]);
  });

  it('a throwing user function fails the pipe with the topic, partition and offset (policy fail)', async () => {
    const { input } = run((b) => b.stream<string, number>('in').mapValues(() => { throw new Error('boom'); }).to('out'));
    await expect(input.pipeInput('a', 1)).rejects.toThrow(/topic in, partition 0, offset 0: boom/);
  });

  it('a throwing user function dead-letters the original bytes with reason headers (policy dead-letter) and processing goes on', async () => {
    const { driver, input, out } = run((b) => b.stream<string, number>('in').mapValues((v) => { if (v === 2) throw new Error('two'); return v; }).to('out'), { errorHandling: 'dead-letter' });
    await input.pipeKeyValueList([['a', 1], ['b', 2], ['c', 3]]);
    expect(out().map((r) => r.key)).toEqual(['a', 'c']);
    const dlq = driver.createOutputTopic('app-dlq', Serdes.string(), Serdes.bytes()).readRecordsToList();
    expect(dlq).toHaveLength(1);
    expect(dlq[0]!.value.toString()).toBe('2');
    expect(dlq[0]!.headers).toMatchObject({ error: 'two', topic: 'in', offset: '1', stage: 'process' });
  });

  it('a node with two children runs once per record (outputs are multicast)', async () => {
    let calls = 0;
    const { input, out } = run((b) => {
      const mapped = b.stream<string, number>('in').mapValues((v) => { calls++; return v; });
      mapped.to('out');
      mapped.to('out2');
    });
    await input.pipeInput('a', 1);
    expect(calls).toBe(1);
    expect(out()).toHaveLength(1);
    expect(out('out2')).toHaveLength(1);
  });

  it('build-time validation: duplicate names, unknown stores, missing serdes', () => {
    const dup = new StreamsBuilder();
    dup.stream('a').filter(() => true, { name: 'x' }).filter(() => true, { name: 'x' });
    expect(() => dup.build()).toThrow(TopologyError);
    const store = new StreamsBuilder();
    store.stream('a').process(() => ({ process() {} }), 'missing');
    expect(() => store.build()).toThrow(/store 'missing', which was never added/);
    const serde = new StreamsBuilder({ defaultValueSerde: null });
    serde.stream('a', { keySerde: Serdes.string() }).to('b');
    expect(() => serde.build()).toThrow(/has no value serde/);
  });
});
