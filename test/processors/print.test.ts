import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Printed, Serdes, StreamsBuilder, TopologyError, TopologyTestDriver } from 'tributary';

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
  vi.restoreAllMocks();
});

function captureStdout(): string[] {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  return lines;
}

async function printInts(print: (builder: StreamsBuilder) => void, records: [number, string][]): Promise<TopologyTestDriver> {
  const builder = new StreamsBuilder();
  print(builder);
  driver = new TopologyTestDriver(builder.build());
  const input = driver.createInputTopic('numbers', Serdes.int32(), Serdes.string());
  for (const [k, v] of records) await input.pipeInput(k, v, 0);
  return driver;
}

describe('KStreamPrintTest / PrintedTest', () => {
  it('KStreamPrintTest.testPrintStreamWithProvidedKeyValueMapper: one line "[label]: mapped" per record, in a file', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'trib-print-')), 'out.txt');
    const d = await printInts((b) => b.stream<number, string>('numbers', { keySerde: Serdes.int32(), valueSerde: Serdes.string() })
      .print(Printed.toFile<number, string>(path).withLabel('test-stream').withKeyValueMapper((k, v) => `${k}, ${v}`)),
    [[0, 'zero'], [1, 'one'], [2, 'two'], [3, 'three']]);
    await d.close();
    expect(readFileSync(path, 'utf8').split(/\r*\n/).filter((l) => l !== '')).toEqual([
      '[test-stream]: 0, zero', '[test-stream]: 1, one', '[test-stream]: 2, two', '[test-stream]: 3, three',
    ]);
  });

  it('PrintedTest.shouldCreateProcessorThatPrintsToStdOut: the label defaults to the node name, the format to "key, value"', async () => {
    const lines = captureStdout();
    await printInts((b) => b.stream<number, string>('numbers', { keySerde: Serdes.int32(), valueSerde: Serdes.string() }).print(Printed.toSysOut<number, string>().withName('processor')), [[2, 'good']]);
    expect(lines).toEqual(['[processor]: 2, good\n']);
  });

  it('PrintedTest.shouldPrintWithLabel / shouldPrintWithKeyValueMapper: withLabel and withKeyValueMapper', async () => {
    const lines = captureStdout();
    await printInts((b) => {
      const s = b.stream<number, string>('numbers', { keySerde: Serdes.int32(), valueSerde: Serdes.string() });
      s.print(Printed.toSysOut<number, string>().withLabel('label'));
      s.print(Printed.toSysOut<number, string>().withName('processor').withKeyValueMapper((k, v) => `${v} -> ${k}`));
    }, [[3, 'hello']]);
    expect(lines).toEqual(['[label]: 3, hello\n', '[processor]: hello -> 3\n']);
  });

  it('print() without arguments prints to standard output labelled with the generated node name; print({ label }) sets it', async () => {
    const lines = captureStdout();
    const d = await printInts((b) => {
      const s = b.stream<number, string>('numbers', { keySerde: Serdes.int32(), valueSerde: Serdes.string() });
      s.print();
      s.print({ label: 'orders' });
    }, [[1, 'x']]);
    expect(lines).toEqual(['[KSTREAM-PRINTER-0000000001]: 1, x\n', '[orders]: 1, x\n']);
    expect(d.topology.describe()).toContain('Processor: KSTREAM-PRINTER-0000000001 (stores: [])');
  });

  it('PrintedTest.shouldThrow*: a null label or mapper, an empty or unwritable file path are refused', () => {
    expect(() => Printed.toFile(null as unknown as string)).toThrow(TypeError);
    expect(() => Printed.toFile('')).toThrow(TopologyError);
    expect(() => Printed.toFile('/this/should/not/exist')).toThrow(/Unable to write stream to file at \[\/this\/should\/not\/exist\]/);
    expect(() => Printed.toSysOut().withLabel(null as unknown as string)).toThrow(TypeError);
    expect(() => Printed.toSysOut().withKeyValueMapper(null as unknown as () => string)).toThrow(TypeError);
  });
});
