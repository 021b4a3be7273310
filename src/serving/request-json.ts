/** What a non-finite number becomes in the replacer's first pass; JSON.stringify escapes the NUL bytes as `\u0000`. */
const POSITIVE = '\u0000tributary:+Infinity\u0000';
const NEGATIVE = '\u0000tributary:-Infinity\u0000';
const POSITIVE_JSON = JSON.stringify(POSITIVE);
const NEGATIVE_JSON = JSON.stringify(NEGATIVE);

const keepInfinity = (_key: string, value: unknown): unknown =>
  value === Infinity ? POSITIVE : value === -Infinity ? NEGATIVE : value;

/**
 * A value as the JSON of a model request. JSON.stringify writes ±Infinity as `null`, which the
 * server would read as a missing value (and score, for a model that accepts missing values); here
 * they are written `1e999` and `-1e999`, which every JSON parser reads back as ±Infinity, so the
 * server refuses them with the real reason. NaN has no JSON form and stays `null`, JSON's missing
 * value. Only a value whose plain JSON holds `null` is serialised a second time.
 */
export function requestJson(value: unknown): string {
  const plain = JSON.stringify(value) ?? 'null';
  if (!plain.includes('null')) return plain;
  return JSON.stringify(value, keepInfinity).replaceAll(POSITIVE_JSON, '1e999').replaceAll(NEGATIVE_JSON, '-1e999');
}
