import { shadowInstruments, trafficInstruments } from './metrics.ts';
import { ModelError, type Model, type Prediction, type ScoreContext, type ScoreInput, type ScoreOutcome } from './model.ts';
import { emitModelRecord, jsonSafe, recordKey, type ModelRecord } from './model-records.ts';

/** Share of traffic per version, e.g. `{ '1': 0.9, '2': 0.1 }` (normalised to sum 1). */
export type TrafficWeights = Readonly<Record<string, number>>;

const encoder = new TextEncoder();

function keyBytes(key: unknown): Uint8Array {
  if (key instanceof Uint8Array) return key;
  if (typeof key === 'string') return encoder.encode(key);
  if (key === null || key === undefined) return new Uint8Array(0);
  if (typeof key === 'number' || typeof key === 'bigint' || typeof key === 'boolean') return encoder.encode(String(key));
  return encoder.encode(JSON.stringify(key, jsonSafe));
}

/** MurmurHash3 x86_32 (seed 0) of some bytes, as an unsigned 32-bit integer. */
function murmur3(bytes: Uint8Array): number {
  const n = bytes.length;
  const blocks = n & ~3;
  let h = 0;
  const mixed = (k: number): number => Math.imul((k = Math.imul(k, 0xcc9e2d51)) << 15 | k >>> 17, 0x1b873593);
  for (let i = 0; i < blocks; i += 4) {
    h ^= mixed(bytes[i]! | bytes[i + 1]! << 8 | bytes[i + 2]! << 16 | bytes[i + 3]! << 24);
    h = (Math.imul(h << 13 | h >>> 19, 5) + 0xe6546b64) | 0;
  }
  const rest = n & 3;
  if (rest > 0) {
    let k = bytes[blocks]!;
    if (rest > 1) k |= bytes[blocks + 1]! << 8;
    if (rest > 2) k |= bytes[blocks + 2]! << 16;
    h ^= mixed(k);
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A stable position in [0, 1) for a record key: MurmurHash3 x86_32 (seed 0) of the key's bytes
 * (strings as UTF-8, other values as their JSON) over 2^32, so any language's murmur3 gives the
 * same split. Every 4-byte block goes through the full mix, so sequential keys (`card-00001`,
 * `card-00002`, ...) split in the configured fractions too.
 */
export function keyHash(key: unknown): number {
  return murmur3(keyBytes(key)) / 0x1_0000_0000;
}

/** Checks and normalises weights into cumulative bounds, in the object's key order. */
function cumulative(name: string, weights: TrafficWeights): { version: string; upTo: number }[] {
  const entries = Object.entries(weights);
  const bad = entries.find(([, w]) => !Number.isFinite(w) || w < 0);
  if (bad !== undefined) throw new ModelError(`traffic weight of version ${bad[0]} must be a finite number >= 0, got ${bad[1]}`, { model: name });
  const total = entries.reduce((s, [, w]) => s + w, 0);
  if (entries.length === 0 || total <= 0) throw new ModelError('traffic weights must give some version a share above 0', { model: name });
  let acc = 0;
  const bounds = entries.map(([version, w]) => ({ version, upTo: (acc += w / total) }));
  bounds[bounds.length - 1]!.upTo = 1;
  return bounds;
}

/**
 * Routes each record to one of several models by a stable hash of its key (same key → same
 * version), scores each version's sub-batch and merges the outcomes back in input order.
 */
export function splitTraffic<In, Out>(name: string, models: Readonly<Record<string, Model<In, Out>>>, weights: TrafficWeights): Model<In, Out> {
  const bounds = cumulative(name, weights);
  const missing = bounds.find((b) => models[b.version] === undefined);
  if (missing !== undefined) throw new ModelError(`no model for version ${missing.version} in the traffic split`, { model: name });
  const route = (key: unknown): string => {
    const h = keyHash(key);
    for (const b of bounds) if (h < b.upTo) return b.version;
    return bounds[bounds.length - 1]!.version;
  };
  const used = bounds.map((b) => models[b.version]!);
  const routed = trafficInstruments(name, bounds.map((b, i) => ({ version: b.version, share: b.upTo - (i === 0 ? 0 : bounds[i - 1]!.upTo) })));

  return {
    name,
    async ready() {
      await Promise.all(used.map((m) => m.ready()));
    },
    async close() {
      await Promise.all(used.map((m) => m.close()));
    },
    async scoreBatch(inputs: readonly ScoreInput<In>[], context?: ScoreContext): Promise<ScoreOutcome<Out>[]> {
      const groups = new Map<string, number[]>();
      inputs.forEach((input, i) => {
        const version = route(input.key);
        const group = groups.get(version);
        if (group === undefined) groups.set(version, [i]);
        else group.push(i);
      });
      const outcomes = new Array<ScoreOutcome<Out>>(inputs.length);
      for (const [version, indexes] of groups) routed(version, indexes.length);
      await Promise.all(
        [...groups].map(async ([version, indexes]) => {
          const results = await models[version]!.scoreBatch(indexes.map((i) => inputs[i]!), context);
          indexes.forEach((i, k) => (outcomes[i] = results[k]!));
        }),
      );
      return outcomes;
    },
  };
}

/** One record scored by both the primary and the shadow candidate. */
export interface ShadowComparison<Out = unknown> {
  model: string;
  key: unknown;
  primaryVersion: string | undefined;
  candidateVersion: string | undefined;
  primary: ScoreOutcome<Out>;
  candidate: ScoreOutcome<Out>;
  /** Both scored it and gave the same label. */
  agree: boolean;
  /** candidate score − primary score, when both scored it and have a numeric `score`. */
  scoreDiff: number | undefined;
}

export interface ShadowOptions<Out> {
  onCompare?: (comparison: ShadowComparison<Out>) => void;
  /**
   * Also write each comparison as a record to this topic: the application running the model (the
   * `KafkaStreams` runner, or the test driver) writes it, with the scored record's key and
   * timestamp and the comparison as JSON (see `shadowComparisonRecord`).
   */
  topic?: string;
  /** How two predictions agree; defaults to equal `label` fields and the difference of `score` fields. */
  compare?: (primary: Prediction<Out>, candidate: Prediction<Out>) => { agree: boolean; scoreDiff: number | undefined };
}

function defaultCompare<Out>(primary: Prediction<Out>, candidate: Prediction<Out>): { agree: boolean; scoreDiff: number | undefined } {
  const p = primary as { label?: unknown; score?: unknown };
  const c = candidate as { label?: unknown; score?: unknown };
  const scoreDiff = typeof p.score === 'number' && typeof c.score === 'number' ? c.score - p.score : undefined;
  return { agree: p.label === c.label, scoreDiff };
}

const versionOf = <Out>(o: ScoreOutcome<Out>): string | undefined => (o.ok ? o.prediction.version : undefined);

/** An outcome as JSON: the prediction, or the stage and message of its failure. */
const outcomeJson = <Out>(o: ScoreOutcome<Out>): unknown => (o.ok ? o.prediction : { error: o.error.message, stage: o.stage });

/**
 * The record written for a comparison when the shadow options name a topic: key and timestamp of
 * the scored record, value `{ model, primaryVersion, candidateVersion, agree, scoreDiff, primary,
 * candidate }` as JSON (a failed side is `{ error, stage }` and its version null; int64 values are strings).
 */
export function shadowComparisonRecord<Out>(comparison: ShadowComparison<Out>, topic: string, timestamp: number): ModelRecord {
  const { model, primaryVersion, candidateVersion, agree, scoreDiff } = comparison;
  const value = { model, primaryVersion: primaryVersion ?? null, candidateVersion: candidateVersion ?? null, agree, scoreDiff: scoreDiff ?? null, primary: outcomeJson(comparison.primary), candidate: outcomeJson(comparison.candidate) };
  return { topic, key: recordKey(comparison.key), value: Buffer.from(JSON.stringify(value, jsonSafe)), timestamp, headers: {} };
}

/**
 * Scores every batch with both models (in parallel) and returns only the primary's outcomes; the
 * candidate's are compared with them, counted in the shadow metrics, passed to `onCompare` and,
 * with a `topic`, written there as records.
 * A candidate failure never affects the primary's results.
 */
export function shadowModel<In, Out>(name: string, primary: Model<In, Out>, candidate: Model<In, Out>, options: ShadowOptions<Out> = {}): Model<In, Out> {
  const compare = options.compare ?? defaultCompare;
  const recorders = new Map<string, (agree: boolean, diff: number | undefined) => void>();
  const record = (primaryVersion: string, candidateVersion: string, agree: boolean, diff: number | undefined): void => {
    const id = `${primaryVersion}\u0000${candidateVersion}`;
    let recorder = recorders.get(id);
    if (recorder === undefined) recorders.set(id, (recorder = shadowInstruments(name, primaryVersion, candidateVersion)));
    recorder(agree, diff);
  };

  return {
    name,
    async ready() {
      await Promise.all([primary.ready(), candidate.ready()]);
    },
    async close() {
      await Promise.all([primary.close(), candidate.close()]);
    },
    async scoreBatch(inputs: readonly ScoreInput<In>[], context?: ScoreContext): Promise<ScoreOutcome<Out>[]> {
      const [main, shadow] = await Promise.all([
        primary.scoreBatch(inputs, context),
        candidate.scoreBatch(inputs, context).catch((error: unknown): ScoreOutcome<Out>[] => {
          const failure: ScoreOutcome<Out> = { ok: false, stage: 'inference', error: error instanceof Error ? error : new Error(String(error)) };
          return inputs.map(() => failure);
        }),
      ]);
      for (let i = 0; i < inputs.length; i++) {
        const p = main[i]!;
        const c = shadow[i]!;
        const { agree, scoreDiff } = p.ok && c.ok ? compare(p.prediction, c.prediction) : { agree: false, scoreDiff: undefined };
        if (p.ok && c.ok) record(p.prediction.version, c.prediction.version, agree, scoreDiff);
        const input = inputs[i]!;
        const comparison: ShadowComparison<Out> = { model: name, key: input.key, primaryVersion: versionOf(p), candidateVersion: versionOf(c), primary: p, candidate: c, agree, scoreDiff };
        if (options.topic !== undefined) emitModelRecord(shadowComparisonRecord(comparison, options.topic, input.timestamp ?? Date.now()), context);
        try {
          options.onCompare?.(comparison);
        } catch (error) {
          // a failing comparison sink must not fail the primary's records
          process.emitWarning(`shadow onCompare threw: ${error instanceof Error ? error.message : String(error)}`, 'TributaryShadowWarning');
        }
      }
      return main;
    },
  };
}
