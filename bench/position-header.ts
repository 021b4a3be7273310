/**
 * CPU of the repartition position header on the runner's hot path, per record, for the checkout at
 * `--root` (run it once per checkout, alternating, to compare two versions): a writer task stamps
 * N word-count repartition records (keys and values 2–8-letter words, 5 outputs per input offset,
 * a 25-character source topic), puts its header on each, and encodes them as record batches of
 * 10 000 with the transport's one-pass writer; a reader decodes the batches with the transport's
 * decoder, converts the headers as the Kafka transport does, checks each position, and drops the
 * header. Reports µs of CPU (user + system) per record for each half, and the bytes per record.
 *
 *   npx tsx bench/position-header.ts --root /work/h17 [--records 1000000] [--repeats 5]
 */
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { root: { type: 'string', default: '.' }, records: { type: 'string', default: '1000000' }, repeats: { type: 'string', default: '5' } } });
const root = resolve(args.root);
const N = Number(args.records);
const REPEATS = Number(args.repeats);
const positions = await import(join(root, 'src/runtime/positions.ts'));
const { encodeUncompressedPartition } = await import(join(root, 'src/transport/kafkajs-record-batch.ts'));
const { decodeRecordBatch } = await import(join(root, 'src/transport/kafkajs-record-batch-decoder.ts'));
const { fromKafkaHeaders } = await import(join(root, 'src/transport/kafka-transport.ts'));
const { crc32c } = await import(join(root, 'src/transport/crc32c.ts'));
const { withoutHeader } = await import(join(root, 'src/util/headers.ts'));
const require = createRequire(join(root, 'package.json'));
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown;

const HEADER: string = positions.POSITION_HEADER;
const TOPIC = 'bench-peer-51f28106-lines';
const words = Array.from({ length: 10_000 }, (_, i) => Buffer.from(`w${(i * 7919).toString(36)}`.slice(0, 2 + (i % 7))));
/** The 40 bytes from attributes to the record count: no compression, producer id -1, `count` records. */
function header40(count: number): Buffer {
  const b = Buffer.alloc(40);
  b.writeInt32BE(count - 1, 2);
  b.writeBigInt64BE(1_765_000_000_000n, 6);
  b.writeBigInt64BE(1_765_000_000_000n, 14);
  b.writeBigInt64BE(-1n, 22);
  b.writeInt16BE(-1, 30);
  b.writeInt32BE(-1, 32);
  b.writeInt32BE(count, 36);
  return b;
}

function write(): { batches: Buffer[]; bytes: number } {
  const stamper = new positions.PositionStamper('0_3');
  const writer: string = typeof stamper.writer === 'function' ? stamper.writer(TOPIC, 3) : `${TOPIC}:3`;
  const batches: Buffer[] = [];
  let bytes = 0;
  for (let start = 0; start < N; start += 10_000) {
    const messages = [];
    for (let i = start; i < Math.min(N, start + 10_000); i++) {
      const word = words[i % words.length]!;
      const headers = { [HEADER]: stamper.stamp(writer, Math.floor(i / 5)) };
      messages.push({ key: word, value: word, headers, timestamp: 1_765_000_000_000 + i });
    }
    const batch = encodeUncompressedPartition(3, messages, (m: { timestamp: number }) => m.timestamp - 1_765_000_000_000, () => header40(messages.length), crc32c)!;
    bytes += batch.length;
    batches.push(batch);
  }
  return { batches, bytes };
}

async function read(batches: Buffer[]): Promise<number> {
  const applied = new positions.AppliedPositions();
  let seen = 0;
  for (const batch of batches) {
    const decoded = await decodeRecordBatch(new Decoder(batch.subarray(8)) as never);
    for (const record of decoded.records) {
      const headers = fromKafkaHeaders(record.headers as never);
      const position = headers[HEADER];
      if (position !== undefined && applied.firstTime('rep:3', String(position))) seen++;
      withoutHeader(headers, HEADER);
    }
  }
  return seen;
}

const cpu = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
const results: { write: number; read: number }[] = [];
let bytes = 0;
for (let r = 0; r < REPEATS + 1; r++) {
  const t0 = cpu();
  const written = write();
  const t1 = cpu();
  const seen = await read(written.batches);
  const t2 = cpu();
  if (seen !== N) throw new Error(`read ${seen} of ${N}`);
  bytes = written.bytes;
  if (r > 0) results.push({ write: (t1 - t0) / N, read: (t2 - t1) / N }); // the first is warm-up
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const w = median(results.map((x) => x.write));
const rd = median(results.map((x) => x.read));
console.log(JSON.stringify({ root, header: HEADER, bytesPerRecord: +(bytes / N).toFixed(1), writeUs: +w.toFixed(3), readUs: +rd.toFixed(3), totalUs: +(w + rd).toFixed(3) }));
