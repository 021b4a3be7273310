import type { ProcessorSupplier, StreamRecord } from './api.ts';

/** Where `print` writes its lines; shared by every task of a topology, as Kafka Streams shares the stream. */
export interface PrintTarget {
  write(line: string): void;
  /** A processor printing to it starts. */
  acquire(): void;
  /** A processor printing to it closes; a file closes with the last one. */
  release(): void;
}

/** Kafka Streams' `KStreamPrint`: writes `[label]: <mapper(key, value)>` and a newline per record; a terminal node. */
export function printProcessor<K, V>(target: PrintTarget, label: string, mapper: (key: K, value: V) => string): ProcessorSupplier {
  return () => ({
    init() {
      target.acquire();
    },
    process(record: StreamRecord<K, V>) {
      target.write(`[${label}]: ${mapper(record.key, record.value)}\n`);
    },
    close() {
      target.release();
    },
  });
}
