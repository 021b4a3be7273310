/**
 * A key's identity inside a store's map. Strings stand for themselves; other keys are their JSON
 * text behind a marker byte, so `'1'` and `1` stay apart.
 */
export function keyId(key: unknown): string {
  return typeof key === 'string' ? key : `\u0001${JSON.stringify(key)}`;
}

/** Orders keys as their serialized bytes usually order: numbers numerically, strings by code unit, others by JSON text. */
export function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = typeof a === 'string' ? a : JSON.stringify(a);
  const y = typeof b === 'string' ? b : JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
