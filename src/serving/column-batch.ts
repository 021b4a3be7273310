/**
 * A batch of flat record values as columns: every number column (and every boolean one, as 0/1)
 * in one Float64Array, the rest as JSON arrays, under a small JSON layout. It stands for the JSON
 * array of the values on a Kafka request (content type `COLUMNS_CONTENT_TYPE`): building it on the
 * stream's thread reads each field once and writes a number, where JSON writes every key and digit,
 * and its request is about half the bytes for the payments of bench/deployment.ts.
 *
 * The server's column replies (`reply-format: columns`) use the same format for the predictions,
 * with one more kind, `f64x`, for arrays of numbers of the same length in every row (a
 * classifier's `probabilities`), so a reply holds no JSON but its layout and its string columns.
 *
 * Layout: uint32 (little-endian) byte length of the layout JSON; the layout JSON
 * `{"rows": n, "columns": [[name, "f64" | "bool" | "json"] | [name, "f64x", length], ...], "json": [[values of each json column], ...]}`;
 * zero bytes up to a multiple of 8; then `rows` float64 (little-endian) per f64/bool column and
 * `rows × length` per f64x column (row after row), column after column, in column order.
 */
import { requestJson } from './request-json.ts';

/** The `content-type` header value of a request whose value is a column batch. */
export const COLUMNS_CONTENT_TYPE = 'application/vnd.tributary.columns';

type ColumnKind = 'f64' | 'bool' | 'json' | 'f64x';

/** A column: its name and kind, and for `f64x` the length of every row's array. */
type Column = [string, ColumnKind] | [string, 'f64x', number];

interface Layout {
  rows: number;
  columns: Column[];
  json: unknown[][];
}

/** How `encodeColumns` may write the values. */
export interface ColumnOptions {
  /**
   * Arrays of numbers of the same length in every row become an `f64x` column (`length` float64s
   * per row) instead of a JSON one. Only for a reader that knows the kind: the server's column
   * replies, which a client gets only when it asked for them.
   */
  arrays?: boolean;
  /** Keys of every value left out of the batch (a prediction's `model`, `version` and `latencyMs` in a column reply). */
  omit?: ReadonlySet<string>;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return (prototype === Object.prototype || prototype === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/** Whether `v` is an array of `length` numbers none of which is NaN. */
function isNumberArray(v: unknown, length: number): boolean {
  if (!Array.isArray(v) || v.length !== length) return false;
  for (let i = 0; i < length; i++) {
    const x: unknown = v[i];
    if (typeof x !== 'number' || x !== x) return false;
  }
  return true;
}

/** The kind of one column of the rows, and the array length of an `f64x` one. */
function columnKind(records: readonly Record<string, unknown>[], name: string, arrays: boolean): [ColumnKind, number] | undefined {
  const first = records[0]![name];
  if (arrays && Array.isArray(first)) {
    const length = first.length;
    for (let r = 0; r < records.length; r++) {
      const v = records[r]![name];
      if (v === undefined) return undefined;
      if (!isNumberArray(v, length)) return ['json', 0];
    }
    return ['f64x', length];
  }
  let kind: ColumnKind = typeof first === 'boolean' ? 'bool' : 'f64';
  for (let r = 0; r < records.length; r++) {
    const v = records[r]![name];
    if (v === undefined) return undefined;
    if (kind === 'f64' ? typeof v !== 'number' || v !== v : kind === 'bool' && typeof v !== 'boolean') kind = 'json';
  }
  return [kind, 1];
}

/**
 * The values as a column batch, or undefined when they do not all have the same keys (a JSON
 * array says what they are then) or a value is undefined. A NaN makes its column a JSON one, so
 * the server reads `null` as it would from JSON; ±Infinity stay numbers, as `1e999` in JSON.
 */
export function encodeColumns(values: readonly unknown[], options: ColumnOptions = {}): Uint8Array | undefined {
  const rows = values.length;
  const first = values[0];
  if (rows === 0 || !isPlainRecord(first)) return undefined;
  const keys = Object.keys(first);
  const omit = options.omit;
  const names = omit === undefined ? keys : keys.filter((name) => !omit.has(name));
  for (let r = 1; r < rows; r++) {
    const row = values[r];
    if (!isPlainRecord(row) || Object.keys(row).length !== keys.length) return undefined;
  }
  const records = values as readonly Record<string, unknown>[];
  const columns = new Array<Column>(names.length);
  const json: unknown[][] = [];
  let numbers = 0;
  for (let c = 0; c < names.length; c++) {
    const name = names[c]!;
    const found = columnKind(records, name, options.arrays === true);
    if (found === undefined) return undefined;
    const [kind, length] = found;
    columns[c] = kind === 'f64x' ? [name, kind, length] : [name, kind];
    if (kind === 'json') json.push(records.map((record) => record[name]));
    else numbers += length;
  }
  const layout = requestJson({ rows, columns, json } satisfies Layout);
  const layoutBytes = Buffer.byteLength(layout);
  const dataStart = Math.ceil((4 + layoutBytes) / 8) * 8;
  const bytes = new Uint8Array(dataStart + 8 * numbers * rows);
  new DataView(bytes.buffer).setUint32(0, layoutBytes, true);
  new TextEncoder().encodeInto(layout, bytes.subarray(4, 4 + layoutBytes));
  const data = new Float64Array(bytes.buffer, dataStart, numbers * rows);
  let at = 0;
  for (const column of columns) {
    const [name, kind] = column;
    if (kind === 'f64') for (let r = 0; r < rows; r++) data[at++] = records[r]![name] as number;
    else if (kind === 'bool') for (let r = 0; r < rows; r++) data[at++] = records[r]![name] === true ? 1 : 0;
    else if (kind === 'f64x') {
      for (let r = 0; r < rows; r++) {
        const array = records[r]![name] as number[];
        for (let i = 0; i < array.length; i++) data[at++] = array[i]!;
      }
    }
  }
  return bytes;
}

/** One column's values, ready for a row: numbers (f64, bool as 0/1, f64x row-major) or the JSON column's array. */
type ColumnData = Float64Array | readonly unknown[];

/** Builds row `r` of a batch from its columns' data. */
type RowBuilder = (data: readonly ColumnData[], r: number) => Record<string, unknown>;

/** Row builders by layout (names, kinds, lengths): a batch of a known layout builds its rows with an object literal. */
const builders = new Map<string, RowBuilder | null>();
const MAX_BUILDERS = 64;

/**
 * A function building a row as one object literal (every row of the batch gets the same fast
 * shape), or null where code cannot be generated (--disallow-code-generation-from-strings) or a
 * name is `__proto__` (a literal would set the prototype). Names are embedded with JSON.stringify.
 */
function compileRowBuilder(columns: readonly Column[]): RowBuilder | null {
  if (columns.some(([name]) => name === '__proto__')) return null;
  const fields = columns.map((column, c) => {
    const [name, kind] = column;
    let read: string;
    if (kind === 'bool') read = `d[${c}][r] !== 0`;
    else if (kind === 'f64x') {
      const length = widthOf(column);
      read = length <= 16
        ? `[${Array.from({ length }, (_, i) => `d[${c}][r * ${length} + ${i}]`).join(', ')}]`
        : `Array.from(d[${c}].subarray(r * ${length}, r * ${length} + ${length}))`;
    } else read = `d[${c}][r]`;
    return `${JSON.stringify(name)}: ${read}`;
  });
  try {
    return new Function('d', 'r', `return { ${fields.join(', ')} };`) as RowBuilder;
  } catch {
    return null;
  }
}

function rowBuilder(columns: readonly Column[]): RowBuilder | null {
  const key = JSON.stringify(columns);
  let builder = builders.get(key);
  if (builder === undefined) {
    builder = compileRowBuilder(columns);
    if (builders.size >= MAX_BUILDERS) builders.clear();
    builders.set(key, builder);
  }
  return builder;
}

/** Row `r` without generated code: one property at a time. */
function buildRow(columns: readonly Column[], data: readonly ColumnData[], r: number): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (let c = 0; c < columns.length; c++) {
    const column = columns[c]!;
    const [name, kind] = column;
    const values = data[c]!;
    let value: unknown;
    if (kind === 'bool') value = values[r] !== 0;
    else if (kind === 'f64x') value = Array.from((values as Float64Array).subarray(r * widthOf(column), (r + 1) * widthOf(column)));
    else value = values[r];
    if (name === '__proto__') Object.defineProperty(row, name, { value, enumerable: true, writable: true, configurable: true });
    else row[name] = value;
  }
  return row;
}

/** Numbers per row of a number column: its array length for f64x, else 1. */
function widthOf(column: Column): number {
  return column[1] === 'f64x' ? column[2] ?? 0 : 1;
}

function isColumn(column: unknown): column is Column {
  if (!Array.isArray(column) || typeof column[0] !== 'string') return false;
  const kind: unknown = column[1];
  if (kind === 'f64x') return column.length === 3 && Number.isInteger(column[2]) && (column[2] as number) >= 0;
  return column.length === 2 && (kind === 'f64' || kind === 'bool' || kind === 'json');
}

/** The record values of a column batch; throws a TypeError saying what is wrong with a malformed one. */
export function decodeColumns(bytes: Uint8Array): Record<string, unknown>[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 4) throw new TypeError('a column batch needs at least 4 bytes');
  const layoutBytes = view.getUint32(0, true);
  if (4 + layoutBytes > bytes.byteLength) throw new TypeError(`its layout is ${layoutBytes} bytes, more than the value holds`);
  const layout = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 4, layoutBytes).toString('utf8')) as Partial<Layout>;
  const { rows, columns, json } = layout;
  if (typeof rows !== 'number' || !Number.isInteger(rows) || rows < 1 || !Array.isArray(columns) || !Array.isArray(json)) {
    throw new TypeError('its layout needs an integer `rows` >= 1 and arrays `columns` and `json`');
  }
  for (const column of columns) {
    if (!isColumn(column)) throw new TypeError(`column ${JSON.stringify(column)} is not [name, "f64" | "bool" | "json"] or [name, "f64x", length]`);
  }
  const dataStart = Math.ceil((4 + layoutBytes) / 8) * 8;
  let numbers = 0;
  let jsonColumns = 0;
  for (const column of columns) {
    if (column[1] === 'json') jsonColumns++;
    else numbers += widthOf(column);
  }
  if (jsonColumns !== json.length || json.some((values) => !Array.isArray(values) || values.length !== rows)) {
    throw new TypeError(`its layout needs one array of ${rows} values in \`json\` per json column`);
  }
  if (bytes.byteLength !== dataStart + 8 * numbers * rows) {
    throw new TypeError(`${numbers} number(s) per row in ${rows} rows need ${dataStart + 8 * numbers * rows} bytes, the value holds ${bytes.byteLength}`);
  }
  // the numbers as one Float64Array: a view when the value is 8-byte aligned (it is not, inside a fetched batch), else one copy
  const start = bytes.byteOffset + dataStart;
  const numberBytes = 8 * numbers * rows;
  const all = start % 8 === 0
    ? new Float64Array(bytes.buffer, start, numbers * rows)
    : new Float64Array(bytes.buffer.slice(start, start + numberBytes));
  const data = new Array<ColumnData>(columns.length);
  let at = 0;
  let next = 0;
  for (let c = 0; c < columns.length; c++) {
    const column = columns[c]!;
    if (column[1] === 'json') data[c] = json[next++]!;
    else {
      const width = widthOf(column);
      data[c] = all.subarray(at, at + width * rows);
      at += width * rows;
    }
  }
  const build = rowBuilder(columns);
  const records = new Array<Record<string, unknown>>(rows);
  if (build !== null) for (let r = 0; r < rows; r++) records[r] = build(data, r);
  else for (let r = 0; r < rows; r++) records[r] = buildRow(columns, data, r);
  return records;
}
