/**
 * A batch of flat record values as columns: every number column (and every boolean one, as 0/1)
 * in one Float64Array, the rest as JSON arrays, under a small JSON layout. It stands for the JSON
 * array of the values on a Kafka request (content type `COLUMNS_CONTENT_TYPE`): building it on the
 * stream's thread reads each field once and writes a number, where JSON writes every key and digit,
 * and its request is about half the bytes for the payments of bench/deployment.ts.
 *
 * Layout: uint32 (little-endian) byte length of the layout JSON; the layout JSON
 * `{"rows": n, "columns": [[name, "f64" | "bool" | "json"], ...], "json": [[values of each json column], ...]}`;
 * zero bytes up to a multiple of 8; then `rows` float64 (little-endian) per f64/bool column, column
 * after column, in column order.
 */
import { requestJson } from './request-json.ts';

/** The `content-type` header value of a request whose value is a column batch. */
export const COLUMNS_CONTENT_TYPE = 'application/vnd.tributary.columns';

type ColumnKind = 'f64' | 'bool' | 'json';

interface Layout {
  rows: number;
  columns: [string, ColumnKind][];
  json: unknown[][];
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return (prototype === Object.prototype || prototype === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/**
 * The values as a column batch, or undefined when they do not all have the same keys (a JSON
 * array says what they are then) or a value is undefined. A NaN makes its column a JSON one, so
 * the server reads `null` as it would from JSON; ±Infinity stay numbers, as `1e999` in JSON.
 */
export function encodeColumns(values: readonly unknown[]): Uint8Array | undefined {
  const rows = values.length;
  const first = values[0];
  if (rows === 0 || !isPlainRecord(first)) return undefined;
  const names = Object.keys(first);
  for (let r = 1; r < rows; r++) {
    const row = values[r];
    if (!isPlainRecord(row) || Object.keys(row).length !== names.length) return undefined;
  }
  const records = values as readonly Record<string, unknown>[];
  const kinds = new Array<ColumnKind>(names.length);
  for (let c = 0; c < names.length; c++) {
    const name = names[c]!;
    let kind: ColumnKind = typeof first[name] === 'boolean' ? 'bool' : 'f64';
    for (let r = 0; r < rows; r++) {
      const v = records[r]![name];
      if (v === undefined) return undefined;
      if (kind === 'f64' ? typeof v !== 'number' || v !== v : kind === 'bool' && typeof v !== 'boolean') kind = 'json';
    }
    kinds[c] = kind;
  }
  const json: unknown[][] = [];
  let numeric = 0;
  for (let c = 0; c < names.length; c++) {
    if (kinds[c] !== 'json') numeric++;
    else json.push(records.map((record) => record[names[c]!]));
  }
  const layout = requestJson({ rows, columns: names.map((name, c) => [name, kinds[c]]), json } satisfies Layout);
  const layoutBytes = Buffer.byteLength(layout);
  const dataStart = Math.ceil((4 + layoutBytes) / 8) * 8;
  const bytes = new Uint8Array(dataStart + 8 * numeric * rows);
  new DataView(bytes.buffer).setUint32(0, layoutBytes, true);
  new TextEncoder().encodeInto(layout, bytes.subarray(4, 4 + layoutBytes));
  const data = new Float64Array(bytes.buffer, dataStart, numeric * rows);
  let at = 0;
  for (let c = 0; c < names.length; c++) {
    const kind = kinds[c];
    if (kind === 'json') continue;
    const name = names[c]!;
    if (kind === 'f64') for (let r = 0; r < rows; r++) data[at++] = records[r]![name] as number;
    else for (let r = 0; r < rows; r++) data[at++] = records[r]![name] === true ? 1 : 0;
  }
  return bytes;
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
  const dataStart = Math.ceil((4 + layoutBytes) / 8) * 8;
  const numeric = columns.filter((column) => column[1] !== 'json').length;
  if (columns.length - numeric !== json.length || json.some((values) => !Array.isArray(values) || values.length !== rows)) {
    throw new TypeError(`its layout needs one array of ${rows} values in \`json\` per json column`);
  }
  if (bytes.byteLength !== dataStart + 8 * numeric * rows) {
    throw new TypeError(`${numeric} number column(s) of ${rows} rows need ${dataStart + 8 * numeric * rows} bytes, the value holds ${bytes.byteLength}`);
  }
  const records = new Array<Record<string, unknown>>(rows);
  for (let r = 0; r < rows; r++) records[r] = {};
  let offset = dataStart;
  let next = 0;
  for (const column of columns) {
    const [name, kind] = column;
    if (typeof name !== 'string' || (kind !== 'f64' && kind !== 'bool' && kind !== 'json')) throw new TypeError(`column ${JSON.stringify(column)} is not [name, "f64" | "bool" | "json"]`);
    if (kind === 'json') {
      const values = json[next++]!;
      for (let r = 0; r < rows; r++) records[r]![name] = values[r];
      continue;
    }
    for (let r = 0; r < rows; r++, offset += 8) {
      const v = view.getFloat64(offset, true);
      records[r]![name] = kind === 'f64' ? v : v !== 0;
    }
  }
  return records;
}
