/** Batch tensors as plain data: building one tensor per input from many rows, and splitting outputs back. */

export type TensorType =
  | 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32'
  | 'int64' | 'uint64' | 'bool' | 'string';

export type NumericArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;
export type TensorData = NumericArray | BigInt64Array | BigUint64Array | string[];

/** A tensor as plain data, cheap to post to a worker (its typed-array buffer is transferred). */
export interface PlainTensor {
  type: TensorType;
  data: TensorData;
  dims: number[];
}

/** The values of one input for one record: its row of the batch tensor. */
export type FeatureValues =
  | readonly (number | bigint | boolean)[] | readonly string[]
  | NumericArray | BigInt64Array | BigUint64Array;

/** What a model's `inputs` mapping returns for one record: values per ONNX input name. */
export type FeatureRow = Readonly<Record<string, FeatureValues>>;

/** One record's slice of every output tensor: the k values of an [N, k] output, one value of an [N] output. */
export type OutputRow = Readonly<Record<string, ArrayLike<number | bigint | string>>>;

/** A batch's output tensors by name, for `outputsAt` to read row by row. */
export type OutputTensors = Readonly<Record<string, PlainTensor>>;

/** An input or output of a session: name, element type and shape (symbolic dims as strings). */
export interface TensorSpec {
  name: string;
  type: TensorType | undefined;
  shape: readonly (number | string)[] | undefined;
  isTensor: boolean;
}

export interface SessionSignature {
  inputs: readonly TensorSpec[];
  outputs: readonly TensorSpec[];
}

/** How `assembleBatch` checks numbers: NaN passes only where the model accepts missing values. */
export interface AssembleOptions {
  /** NaN is a missing value the model handles (e.g. a HistGradientBoosting export); ±Infinity is still rejected. */
  acceptsMissingValues?: boolean | undefined;
  /** Names of the columns of each input, so a rejection names the feature instead of its index. */
  columnNames?: Readonly<Record<string, readonly string[]>> | undefined;
}

/**
 * A feature value the model cannot score meaningfully: NaN (unless the model accepts missing
 * values), ±Infinity, or a number beyond float32's range (it would become Infinity in the tensor).
 * ONNX runs such rows without complaint and answers nonsense, so they are refused before the run.
 */
export class NonFiniteFeatureError extends TypeError {
  override readonly name = 'NonFiniteFeatureError';
}

export interface AssembledBatch {
  feeds: Record<string, PlainTensor>;
  /** For each batch row, the index of the record it came from. */
  rows: number[];
  /** Records that could not be placed in the tensors, with the reason. */
  failures: Map<number, Error>;
}

interface Column {
  spec: TensorSpec;
  names: readonly string[] | undefined;
  type: TensorType;
  width: number;
  rowDims: number[];
  data: TensorData;
}

/** The fixed per-row shape of an input (dims after the batch dim) when all of them are known. */
function staticRowDims(spec: TensorSpec): number[] | undefined {
  if (spec.shape === undefined || spec.shape.length === 0) return undefined;
  const rest = spec.shape.slice(1);
  return rest.every((d): d is number => typeof d === 'number' && d >= 0) ? rest : undefined;
}

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

function typeOfValues(values: FeatureValues): TensorType {
  if (values instanceof Float32Array) return 'float32';
  if (values instanceof Float64Array) return 'float64';
  if (values instanceof Int32Array) return 'int32';
  if (values instanceof BigInt64Array) return 'int64';
  if (values instanceof BigUint64Array) return 'uint64';
  if (values instanceof Uint8Array) return 'uint8';
  if (values instanceof Int8Array) return 'int8';
  if (values instanceof Int16Array) return 'int16';
  if (values instanceof Uint16Array) return 'uint16';
  if (values instanceof Uint32Array) return 'uint32';
  const first: unknown = values[0];
  if (typeof first === 'bigint') return 'int64';
  if (typeof first === 'string') return 'string';
  if (typeof first === 'boolean') return 'bool';
  return 'float32';
}

function allocate(type: TensorType, length: number): TensorData {
  switch (type) {
    case 'float32': return new Float32Array(length);
    case 'float64': return new Float64Array(length);
    case 'int8': return new Int8Array(length);
    case 'uint8': case 'bool': return new Uint8Array(length);
    case 'int16': return new Int16Array(length);
    case 'uint16': return new Uint16Array(length);
    case 'int32': return new Int32Array(length);
    case 'uint32': return new Uint32Array(length);
    case 'int64': return new BigInt64Array(length);
    case 'uint64': return new BigUint64Array(length);
    case 'string': return new Array<string>(length).fill('');
  }
}

const FLOAT32_MAX = 3.4028234663852886e38;

function nonFinite(column: Column, i: number, v: number): NonFiniteFeatureError {
  const where = column.names?.[i] !== undefined ? `feature '${column.names[i]}'` : `input '${column.spec.name}'[${i}]`;
  if (Number.isNaN(v)) {
    return new NonFiniteFeatureError(`${where} is NaN; the model does not accept missing values (model.json "acceptsMissingValues": true says it does)`);
  }
  if (!Number.isFinite(v)) return new NonFiniteFeatureError(`${where} is ${v}; features must be finite numbers`);
  return new NonFiniteFeatureError(`${where} is ${v}, beyond float32's range (±${FLOAT32_MAX}): it would reach the model as ${v > 0 ? '' : '-'}Infinity`);
}

/** Throws for the first value of `data[offset, offset + length)` that is not finite (NaN allowed when accepted). */
function checkFinite(column: Column, data: Float32Array | Float64Array, offset: number, length: number, source: ArrayLike<unknown>, acceptsMissing: boolean): void {
  for (let i = 0; i < length; i++) {
    const stored = data[offset + i]!;
    // one comparison per value on the hot path: stored - stored is 0 for every finite number, NaN otherwise
    if (stored - stored !== 0 && !(acceptsMissing && Number.isNaN(stored) && Number.isNaN(Number(source[i])))) {
      throw nonFinite(column, i, Number(source[i]));
    }
  }
}

/** Writes one record's values at `offset`; throws a readable error on a value of the wrong kind. */
function write(column: Column, values: FeatureValues, offset: number, acceptsMissing: boolean): void {
  const { data, type, spec } = column;
  if (Array.isArray(data)) {
    for (let i = 0; i < values.length; i++) {
      const v: unknown = values[i];
      if (typeof v !== 'string') throw new TypeError(`input '${spec.name}'[${i}] must be a string, got ${typeof v}`);
      data[offset + i] = v;
    }
    return;
  }
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < values.length; i++) {
      const v: unknown = values[i];
      if (typeof v === 'bigint') data[offset + i] = v;
      else if (typeof v === 'number' && Number.isInteger(v)) data[offset + i] = BigInt(v);
      else throw new TypeError(`input '${spec.name}'[${i}] must be an integer (${type}), got ${String(v)}`);
    }
    return;
  }
  if (ArrayBuffer.isView(values) && !(values instanceof BigInt64Array || values instanceof BigUint64Array)) {
    if ((values instanceof Float32Array || values instanceof Float64Array) && !(data instanceof Float32Array || data instanceof Float64Array)) {
      for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) throw nonFinite(column, i, values[i]!);
    }
    data.set(values, offset);
    if (data instanceof Float32Array || data instanceof Float64Array) checkFinite(column, data, offset, values.length, values, acceptsMissing);
    return;
  }
  for (let i = 0; i < values.length; i++) {
    const v: unknown = values[i];
    if (typeof v === 'number') {
      // integer tensors would turn NaN and ±Infinity into 0 or a wrapped value without a word
      if (!(data instanceof Float32Array || data instanceof Float64Array) && !Number.isFinite(v)) throw nonFinite(column, i, v);
      data[offset + i] = v;
    } else if (typeof v === 'boolean') data[offset + i] = v ? 1 : 0;
    else if (typeof v === 'bigint') data[offset + i] = Number(v);
    else throw new TypeError(`input '${spec.name}'[${i}] must be a number (${type}), got ${v === null ? 'null' : typeof v}`);
  }
  if (data instanceof Float32Array || data instanceof Float64Array) checkFinite(column, data, offset, values.length, values, acceptsMissing);
}

function truncate(data: TensorData, length: number): TensorData {
  if (data.length === length) return data;
  return Array.isArray(data) ? data.slice(0, length) : data.subarray(0, length);
}

/**
 * Builds one tensor per model input for the whole batch. `rows[i]` is the mapped features of
 * record i, or undefined when that record already failed. Per-row width comes from the model's
 * static shape, else from the first usable row; a row that does not fit fails alone.
 */
export function assembleBatch(rows: readonly (FeatureRow | undefined)[], inputs: readonly TensorSpec[], options: AssembleOptions = {}): AssembledBatch {
  const acceptsMissing = options.acceptsMissingValues === true;
  const failures = new Map<number, Error>();
  const placed: number[] = [];
  const first = rows.find((r) => r !== undefined);
  if (first === undefined) return { feeds: {}, rows: placed, failures };

  const capacity = rows.length;
  const columns: Column[] = [];
  for (const spec of inputs) {
    const sample = first[spec.name];
    const rowDims = staticRowDims(spec) ?? [sample?.length ?? 0];
    const width = product(rowDims);
    const type = spec.type ?? (sample === undefined ? 'float32' : typeOfValues(sample));
    columns.push({ spec, names: options.columnNames?.[spec.name], type, width, rowDims, data: allocate(type, capacity * width) });
  }

  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (row === undefined) continue;
    try {
      const slot = placed.length;
      for (const column of columns) {
        const values = row[column.spec.name];
        if (values === undefined) {
          throw new TypeError(`input '${column.spec.name}' is missing (the model takes ${inputs.map((i) => `'${i.name}'`).join(', ')})`);
        }
        if (values.length !== column.width) {
          throw new TypeError(`input '${column.spec.name}' has ${values.length} values, expected ${column.width}`);
        }
        write(column, values, slot * column.width, acceptsMissing);
      }
      placed.push(r);
    } catch (error) {
      failures.set(r, error instanceof Error ? error : new Error(String(error)));
    }
  }

  const feeds: Record<string, PlainTensor> = {};
  for (const column of columns) {
    feeds[column.spec.name] = {
      type: column.type,
      data: truncate(column.data, placed.length * column.width),
      dims: [placed.length, ...column.rowDims],
    };
  }
  return { feeds, rows: placed, failures };
}

/** A feed of `batch` rows of zeros (empty strings), for warming a session up; undefined if a dim is unknown. */
export function zeroFeeds(inputs: readonly TensorSpec[], batch = 1): Record<string, PlainTensor> | undefined {
  const feeds: Record<string, PlainTensor> = {};
  for (const spec of inputs) {
    const rowDims = staticRowDims(spec);
    if (rowDims === undefined || spec.type === undefined) return undefined;
    feeds[spec.name] = { type: spec.type, data: allocate(spec.type, batch * product(rowDims)), dims: [batch, ...rowDims] };
  }
  return feeds;
}

function slice(data: TensorData, start: number, end: number): ArrayLike<number | bigint | string> {
  if (Array.isArray(data)) return data.slice(start, end);
  const width = end - start;
  if (width > 16) return data.subarray(start, end);
  const out = new Array<number | bigint>(width);
  for (let k = 0; k < width; k++) out[k] = data[start + k]!;
  return out;
}

/** Splits every output tensor of an n-row batch into n rows; an output without a batch dim goes whole to every row. */
export function splitOutputs(outputs: Readonly<Record<string, PlainTensor>>, n: number): OutputRow[] {
  const rows: Record<string, ArrayLike<number | bigint | string>>[] = [];
  for (let i = 0; i < n; i++) rows.push({});
  for (const [name, tensor] of Object.entries(outputs)) {
    const perRow = tensor.dims.length > 0 && tensor.dims[0] === n && n > 0;
    const width = perRow ? tensor.data.length / n : 0;
    for (let i = 0; i < n; i++) {
      rows[i]![name] = perRow ? slice(tensor.data, i * width, (i + 1) * width) : tensor.data;
    }
  }
  return rows;
}

/** The ArrayBuffers behind a set of tensors, each once, to transfer to or from a worker. */
export function transferables(tensors: Readonly<Record<string, PlainTensor>>): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const t of Object.values(tensors)) {
    if (!Array.isArray(t.data) && t.data.buffer instanceof ArrayBuffer) buffers.add(t.data.buffer);
  }
  return [...buffers];
}
