import { readFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import type { BinnedDistribution } from './drift.ts';
import { ModelError, describeError } from './model.ts';

/** An input or output as model.json describes it (`null` for a dynamic dim such as the batch). */
export interface TensorDescription {
  name: string;
  type: string;
  shape: (number | string | null)[];
  /** For an output of a `tensors` model: names of the k values of each row of an `[N, k]` output. */
  columns?: string[];
}

/** Training histograms of each feature and of the score output (see `BinnedDistribution`). */
export interface TrainingDistributions {
  features: Record<string, BinnedDistribution>;
  outputs?: Record<string, BinnedDistribution>;
}

/** A JSON Schema object. */
export type JsonSchema = Record<string, unknown>;

/** The contents of `models/<name>/<version>/model.json`. */
export interface ModelMetadata {
  name: string;
  version: string;
  description?: string;
  algorithm?: string;
  framework?: string;
  /** Feature names, in the column order of the model's float input; read from the record by name. */
  features: string[];
  inputs: TensorDescription[];
  outputs: TensorDescription[];
  /** What the outputs mean; inferred from their names and types when absent (see `modelKind`). */
  kind?: ModelKind;
  /** Class names: by class index (an array), or by class value (an object, e.g. `{ "-1": "anomaly" }`). */
  labels?: (string | number)[] | Record<string, string>;
  /** JSON Schema of the record value object. */
  inputSchema?: JsonSchema;
  /** The model handles missing values (NaN; a null feature in a record): without it NaN is rejected. */
  acceptsMissingValues?: boolean;
  metrics?: Record<string, unknown>;
  training?: TrainingDistributions;
  trainedAt?: string;
}

/**
 * What a registry model's outputs mean: a classifier (`label` + `probabilities`), an anomaly
 * detector (`label` + `scores`), a regressor (one float output, one value per record) or any other
 * set of tensors (each output by name in the prediction).
 */
export type ModelKind = 'classifier' | 'anomaly' | 'regressor' | 'tensors';

const KINDS: readonly ModelKind[] = ['classifier', 'anomaly', 'regressor', 'tensors'];
/** Fields every prediction carries; a `tensors` model's outputs cannot use these names. */
const RESERVED_OUTPUTS = new Set(['model', 'version', 'latencyMs']);

const tensor = {
  type: 'object',
  required: ['name', 'type'],
  properties: {
    name: { type: 'string', minLength: 1 },
    type: { type: 'string' },
    shape: { type: 'array', items: { type: ['integer', 'string', 'null'] } },
    columns: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
  },
};
const histogram = {
  type: 'object',
  required: ['edges', 'fractions'],
  properties: {
    edges: { type: 'array', items: { type: 'number' } },
    fractions: { type: 'array', items: { type: 'number', minimum: 0 }, minItems: 1 },
  },
};
const metadataSchema = {
  type: 'object',
  required: ['name', 'version', 'features', 'inputs', 'outputs'],
  properties: {
    name: { type: 'string', minLength: 1 },
    version: { type: ['string', 'integer'] },
    description: { type: 'string' },
    algorithm: { type: 'string' },
    framework: { type: 'string' },
    features: { type: 'array', items: { type: 'string' }, minItems: 1 },
    inputs: { type: 'array', items: tensor, minItems: 1 },
    outputs: { type: 'array', items: tensor, minItems: 1 },
    kind: { enum: KINDS },
    labels: {
      oneOf: [
        { type: 'array', items: { type: ['string', 'number'] } },
        { type: 'object', additionalProperties: { type: 'string' } },
      ],
    },
    inputSchema: { type: 'object' },
    acceptsMissingValues: { type: 'boolean' },
    metrics: { type: 'object' },
    training: {
      type: 'object',
      required: ['features'],
      properties: {
        features: { type: 'object', additionalProperties: histogram },
        outputs: { type: 'object', additionalProperties: histogram },
      },
    },
  },
};

const validateMetadata = new Ajv({ allErrors: true, strict: false }).compile(metadataSchema);

/** Checks parsed model.json content; `source` names the file in error messages. */
export function parseModelMetadata(json: unknown, source: string, expected?: { name: string; version: string }): ModelMetadata {
  const model = expected?.name ?? 'unknown';
  if (!validateMetadata(json)) {
    const problems = (validateMetadata.errors ?? []).map((e) =>
      e.keyword === 'required'
        ? `${e.instancePath || ''} is missing '${String(e.params['missingProperty'])}'`.trimStart()
        : `${e.instancePath} ${e.message ?? 'is invalid'}`,
    );
    throw new ModelError(`${source} is not a valid model.json: ${problems.join('; ')}`, { model, version: expected?.version });
  }
  const raw = json as unknown as ModelMetadata & { version: string | number };
  const metadata: ModelMetadata = { ...raw, version: String(raw.version) };
  for (const [feature, h] of Object.entries(metadata.training?.features ?? {})) {
    if (h.fractions.length !== h.edges.length + 1) {
      throw new ModelError(`${source}: training.features.${feature} has ${h.edges.length} edges and ${h.fractions.length} fractions; expected edges + 1`, { model, version: expected?.version });
    }
  }
  if (expected !== undefined && (metadata.name !== expected.name || metadata.version !== expected.version)) {
    throw new ModelError(`${source} says it is ${metadata.name}@${metadata.version} but lies in the folder of ${expected.name}@${expected.version}`, { model, version: expected.version });
  }
  modelKind(metadata, source);
  return metadata;
}

/** Reads and checks a model.json file. */
export async function loadModelMetadata(file: string, expected?: { name: string; version: string }): Promise<ModelMetadata> {
  const model = expected?.name ?? 'unknown';
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ModelError(`cannot read ${file}: ${describeError(error)}`, { model, version: expected?.version, cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ModelError(`${file} is not valid JSON: ${describeError(error)}`, { model, version: expected?.version, cause: error });
  }
  return parseModelMetadata(json, file, expected);
}

const isFloat = (type: string): boolean => type === 'float32' || type === 'float64' || type === 'float16';
const isTensorType = (type: string): boolean => !/^(seq|map|sequence|optional)\b/i.test(type) && !type.includes('(');

/** The per-row width of an output from its shape: the product of the dims after the batch dim (undefined if one is dynamic). */
export function rowWidth(shape: readonly (number | string | null)[]): number | undefined {
  let width = 1;
  for (const d of shape.slice(1)) {
    if (typeof d !== 'number') return undefined;
    width *= d;
  }
  return width;
}

/**
 * What a version's outputs mean: its model.json `kind`, checked against the outputs, else inferred —
 * `label` + `probabilities` is a classifier, `label` + `scores` an anomaly detector, one float
 * output of one value per row (a scikit-learn regressor's `variable`) a regressor, anything else
 * `tensors`. Outputs that are not tensors (a classifier exported with ZipMap on) are refused.
 */
export function modelKind(metadata: ModelMetadata, source = 'model.json'): ModelKind {
  const fail = (message: string): never => {
    throw new ModelError(`${source}: ${message}`, { model: metadata.name, version: metadata.version });
  };
  const odd = metadata.outputs.filter((o) => !isTensorType(o.type));
  if (odd.length > 0) {
    fail(`${odd.map((o) => `'${o.name}' (${o.type})`).join(', ')} is not a tensor; a scikit-learn classifier needs to be exported with zipmap off`);
  }
  const names = new Set(metadata.outputs.map((o) => o.name));
  const listed = [...names].map((n) => `'${n}'`).join(', ');
  const only = metadata.outputs.length === 1 ? metadata.outputs[0]! : undefined;
  const oneValue = only !== undefined && isFloat(only.type) && (rowWidth(only.shape ?? []) ?? 1) === 1;
  const kind = metadata.kind
    ?? (names.has('label') && names.has('probabilities') ? 'classifier'
      : names.has('label') && names.has('scores') ? 'anomaly'
        : oneValue ? 'regressor' : 'tensors');
  if (kind === 'classifier' && !(names.has('label') && names.has('probabilities'))) fail(`kind "classifier" needs outputs 'label' and 'probabilities' (exported with zipmap off); it has ${listed}`);
  if (kind === 'anomaly' && !(names.has('label') && names.has('scores'))) fail(`kind "anomaly" needs outputs 'label' and 'scores'; it has ${listed}`);
  if (kind === 'regressor' && !oneValue) fail(`kind "regressor" needs one float output with one value per record; it has ${metadata.outputs.map((o) => `'${o.name}' (${o.type}, [${(o.shape ?? []).map(String).join(', ')}])`).join(', ')} (kind "tensors" serves any outputs)`);
  if (kind === 'tensors') {
    const reserved = [...names].filter((n) => RESERVED_OUTPUTS.has(n));
    if (reserved.length > 0) fail(`output ${reserved.map((n) => `'${n}'`).join(', ')} would collide with the prediction's own field; rename it in the model`);
    for (const o of metadata.outputs) {
      const width = rowWidth(o.shape ?? []);
      if (o.columns !== undefined && width !== undefined && width !== o.columns.length) fail(`output '${o.name}' has ${width} values per row but ${o.columns.length} columns`);
    }
  }
  return kind;
}
