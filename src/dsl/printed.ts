import { closeSync, openSync, writeSync } from 'node:fs';
import { TopologyError } from '../topology/errors.ts';
import type { PrintTarget } from '../processors/print.ts';

const stdout: PrintTarget = {
  write: (line) => void process.stdout.write(line),
  acquire: () => undefined,
  release: () => undefined,
};

function fileTarget(path: string): PrintTarget {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'w');
  } catch (error) {
    throw new TopologyError(`Unable to write stream to file at [${path}] ${error instanceof Error ? error.message : String(error)}`);
  }
  let users = 0;
  return {
    write: (line) => {
      if (fd !== undefined) writeSync(fd, line);
    },
    acquire: () => {
      users++;
    },
    release: () => {
      if (--users === 0 && fd !== undefined) {
        closeSync(fd);
        fd = undefined;
      }
    },
  };
}

/**
 * How `KStream.print` writes records: Kafka Streams' `Printed`. Each record becomes one line
 * `[label]: <mapper(key, value)>`, the label defaulting to the print node's name and the mapper to
 * `${key}, ${value}`.
 *
 * ```ts
 * stream.print(Printed.toSysOut<string, number>().withLabel('counts'));
 * stream.print(Printed.toFile('/tmp/orders.txt').withKeyValueMapper((k, v) => `${k} -> ${v}`));
 * ```
 */
export class Printed<K, V> {
  private constructor(
    /** @internal */ readonly target: PrintTarget,
    /** @internal */ readonly label: string | undefined,
    /** @internal */ readonly mapper: (key: K, value: V) => string,
    /** @internal */ readonly name: string | undefined,
  ) {}

  /** Prints to standard output. */
  static toSysOut<K = unknown, V = unknown>(): Printed<K, V> {
    return new Printed<K, V>(stdout, undefined, (key, value) => `${String(key)}, ${String(value)}`, undefined);
  }

  /** Prints to a file, created (or truncated) now; a path that cannot be written is a `TopologyError`. */
  static toFile<K = unknown, V = unknown>(filePath: string): Printed<K, V> {
    if (filePath === undefined || filePath === null) throw new TypeError("filePath can't be null");
    if (filePath.trim() === '') throw new TopologyError("filePath can't be an empty string");
    return new Printed<K, V>(fileTarget(filePath), undefined, (key, value) => `${String(key)}, ${String(value)}`, undefined);
  }

  /** Starts each line with `[label]: ` instead of the node's name. */
  withLabel(label: string): Printed<K, V> {
    if (label === undefined || label === null) throw new TypeError("label can't be null");
    return new Printed(this.target, label, this.mapper, this.name);
  }

  /** Formats each record with `mapper(key, value)`. */
  withKeyValueMapper(mapper: (key: K, value: V) => string): Printed<K, V> {
    if (typeof mapper !== 'function') throw new TypeError("mapper can't be null");
    return new Printed(this.target, this.label, mapper, this.name);
  }

  /** Names the print node (and so the default label). */
  withName(name: string): Printed<K, V> {
    return new Printed(this.target, this.label, this.mapper, name);
  }
}
