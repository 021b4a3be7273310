import { readFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import type { BinnedDistribution } from './drift.ts';
import { ModelError, describeError } from './model.ts';

/** An input or output as model.json describes it (`null` for a dynamic dim such as the batch). */
export interface TensorDescription {
  name: string;
  type: string;
  shape: (number | string | null)[];
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

/** What a registry model's outputs mean: a classifier (`probabilities`) or an anomaly detector (`scores`). */
export type ModelKind = 'classifier' | 'anomaly';

const tensor = {
  type: 'object',
  required: ['name', 'type'],
  properties: {
    name: { type: 'string', minLength: 1 },
    type: { type: 'string' },
    shape: { type: 'array', items: { type: ['integer', 'string', 'null'] } },
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

/** Tells a classifier (`label` + `probabilities` outputs) from an anomaly detector (`label` + `scores`). */
export function modelKind(metadata: ModelMetadata, source = 'model.json'): ModelKind {
  const names = new Set(metadata.outputs.map((o) => o.name));
  if (names.has('label') && names.has('probabilities')) return 'classifier';
  if (names.has('label') && names.has('scores')) return 'anomaly';
  throw new ModelError(
    `${source} has outputs ${[...names].map((n) => `'${n}'`).join(', ')}; a registry model needs 'label' with 'probabilities' (classifier, exported with zipmap off) or with 'scores' (anomaly detector)`,
    { model: metadata.name, version: metadata.version },
  );
}
