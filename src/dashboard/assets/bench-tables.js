// What the dashboard's Benchmarks tab draws from a `tributary bench` result (bench/results/*.json):
// the tables of numbers found in it, each drawn as one bar chart per numeric field. Plain
// JavaScript without the DOM, so that the page imports it and the tests run it on real results.

const MAX_DEPTH = 4;

/** A flat copy of an object: nested objects (two levels) become `a.b` keys; arrays are left out. */
export function flatten(object, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(object)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && prefix.split('.').length < 3) flatten(v, name, out);
    else if (typeof v !== 'object' || v === null) out[name] = v;
  }
  return out;
}

const isNumber = (v) => typeof v === 'number' && Number.isFinite(v);
const isPlainObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const numericKeys = (rows) => [...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => isNumber(r[k]))))];

/** The last camelCase word of a field, lower-cased: `engineRecordsPerSec` → `sec`, `taskOnlyRatio` → `ratio`. */
const lastWord = (name) => (/([A-Z]?[a-z0-9]+|[A-Z]+)$/.exec(name)?.[1] ?? name).toLowerCase();
/** The longest common ending of some field names (`RecordsPerSec`), at a word boundary. */
function commonEnding(names) {
  let end = names[0];
  for (const n of names) while (!n.toLowerCase().endsWith(end.toLowerCase())) end = end.slice(1);
  const word = /[A-Z][a-z0-9]*.*$/.exec(end)?.[0] ?? end;
  return word.replace(/^./, (c) => c.toLowerCase());
}

/**
 * The tables of numbers in a result, with where they are (`path`), their rows (flat objects) and
 * numeric fields, found at any depth up to four:
 *  - an array of objects (`rows`, `runs`, `modes`): one row per element;
 *  - an object whose values are objects with numbers (`throughput: { stateless: {...}, stateful: {...} }`):
 *    one row per key, named by it;
 *  - the numbers of an object itself (a result with no table, `{ engineRecordsPerSec, plainRecordsPerSec, ratio }`):
 *    two or more fields ending in the same word side by side (`engine`, `plain` under `recordsPerSec`).
 */
export function tablesOf(value, path = [], out = [], inRow = false) {
  if (path.length > MAX_DEPTH || value === null || typeof value !== 'object') return out;
  const where = path.join('.') || 'result';
  if (Array.isArray(value)) {
    const rows = value.filter(isPlainObject).map((v) => flatten(v));
    const numeric = numericKeys(rows);
    if (rows.length > 0 && numeric.length > 0) out.push({ path: where, rows, numeric });
    // An element's own numbers are in this table already; only tables inside it are looked for.
    value.forEach((v, i) => { if (v !== null && typeof v === 'object') tablesOf(v, [...path, String(i)], out, rows.length > 0); });
    return out;
  }
  const objectEntries = Object.entries(value).filter(([, v]) => isPlainObject(v));
  if (objectEntries.length >= 2 && !inRow) {
    const rows = objectEntries.map(([k, v]) => ({ name: k, ...flatten(v) }));
    // Alike objects only (a field with a number in at least two of them), not a result's unrelated settings.
    const numeric = numericKeys(rows).filter((k) => rows.filter((r) => isNumber(r[k])).length >= 2);
    if (numeric.length > 0) out.push({ path: where, rows, numeric });
  }
  const scalars = inRow ? [] : Object.entries(value).filter(([, v]) => isNumber(v));
  if (scalars.length > 1) {
    const groups = new Map();
    for (const [k, v] of scalars) groups.set(lastWord(k), [...(groups.get(lastWord(k)) ?? []), [k, v]]);
    for (const fields of groups.values()) {
      if (fields.length < 2) continue; // one number is in the result's line of settings, not worth a chart
      const ending = commonEnding(fields.map(([k]) => k));
      const rows = fields.map(([k, v]) => {
        const name = k.length > ending.length ? k.slice(0, k.length - ending.length) : k;
        return { name, [ending]: v };
      });
      out.push({ path: path.length === 0 ? ending : `${where}: ${ending}`, rows, numeric: [ending], numbers: true });
    }
  }
  for (const [k, v] of Object.entries(value)) tablesOf(v, [...path, k], out, inRow);
  return out;
}

const unique = (labels) => new Set(labels).size === labels.length;
const last = (key) => key.split('.').at(-1);

/**
 * The rows' names on a chart: their first few text fields; where two rows would share a name, their
 * yes/no fields too (`recordCache`, `no recordCache`), then their position.
 */
export function rowLabels(rows) {
  const texts = rows.map((row) => Object.values(row).filter((v) => typeof v === 'string').slice(0, 3));
  let labels = texts.map((parts, i) => (parts.length > 0 ? parts.join(' · ') : `#${i + 1}`));
  if (unique(labels)) return labels;
  labels = rows.map((row, i) => {
    const flags = Object.entries(row).filter(([, v]) => typeof v === 'boolean').slice(0, 2).map(([k, v]) => (v ? last(k) : `no ${last(k)}`));
    return [...texts[i], ...flags].join(' · ') || `#${i + 1}`;
  });
  return unique(labels) ? labels : labels.map((label, i) => `${label} #${i + 1}`);
}

/** The charts of a result: per table, one bar chart per numeric field (at most `max` of each). */
export function benchCharts(result, max = 12) {
  return tablesOf(result).slice(0, max).map((table) => ({
    path: table.path,
    labels: rowLabels(table.rows),
    charts: table.numeric.slice(0, max).map((field) => ({ field, values: table.rows.map((r) => (isNumber(r[field]) ? r[field] : null)) })),
  }));
}
