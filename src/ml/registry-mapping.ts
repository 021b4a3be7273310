import { modelKind, type ModelKind, type ModelMetadata } from './model-metadata.ts';
import { ModelError, type PredictionMeta } from './model.ts';
import type { MonitorOptions, OnnxModelOptions } from './onnx-model.ts';
import type { DriftOptions } from './drift.ts';
import type { FeatureRow, OutputTensors, PlainTensor } from './tensor-batch.ts';

/** A record value a registry model reads its features from, by name (any object: typed values fit too). */
export type RecordValue = object;

/** What a registry classifier predicts for one record. */
export interface ClassifierOutput {
  /** The class name from model.json `labels`, else the class value. */
  label: string | number;
  /** The index of the predicted class in `probabilities`. */
  labelIndex: number;
  /** The probability of the positive (last) class. */
  score: number;
  probabilities: number[];
}

/** What a registry anomaly detector (e.g. an isolation forest) predicts for one record. */
export interface AnomalyOutput {
  /** The name model.json `labels` gives the model's label (`{ "-1": "anomaly", "1": "normal" }`), else the label: -1 for an anomaly, 1 for normal. */
  label: string | number;
  /** The model's label is -1. */
  anomaly: boolean;
  /** The anomaly score (scikit-learn's `decision_function`: below 0 is anomalous). */
  score: number;
}

/** What a registry regressor (one float output, e.g. scikit-learn's `variable`) predicts for one record. */
export interface RegressorOutput {
  value: number;
}

/** One output of a `tensors` model for one record: a value, the row's values, or them by model.json `columns`. */
export type TensorValue = number | string | (number | string)[] | { [column: string]: number | string };

/** What a registry model of kind `tensors` predicts for one record: every output by name. */
export interface TensorOutput {
  [output: string]: TensorValue;
}

export type RegistryOutput = ClassifierOutput | AnomalyOutput | RegressorOutput | TensorOutput;

/** Why feature `name` cannot be read from `value` (the reader only calls this for a bad value). */
function featureError(features: readonly string[], value: unknown, name: string | undefined): TypeError {
  if (typeof value !== 'object' || value === null || name === undefined) return new TypeError(`the record value must be an object with ${features.join(', ')}`);
  const v = (value as Readonly<Record<string, unknown>>)[name];
  return new TypeError(`feature '${name}' is ${v === undefined ? 'missing' : `a ${v === null ? 'null' : typeof v}`}, expected a number`);
}

/**
 * `value => ({ input: [value.f1, value.f2, …] })` for the feature names, compiled once per model
 * version; it returns undefined when a feature is not a number or a boolean. The loop it replaces
 * (`value[features[i]]` into `{ [input]: row }`) cost 125 ns a record against 14: one keyed load
 * that sees every name goes megamorphic, and a computed key builds its object slowly — together
 * the most expensive step of `.predict` on the main thread (bench/predict.ts). Names are embedded
 * with JSON.stringify, so any string is safe; without code generation (a process run with
 * --disallow-code-generation-from-strings) it returns undefined and the loop is used.
 */
function compileFeatureReader(input: string, features: readonly string[], missing: boolean): ((value: object) => FeatureRow | undefined) | undefined {
  if (input === '__proto__') return undefined; // a literal `{ "__proto__": … }` would set the prototype
  const other = (v: string, i: number): string =>
    missing ? `if (${v} === null) row[${i}] = NaN; else if (typeof ${v} !== 'boolean') return undefined; else row[${i}] = ${v} ? 1 : 0;`
      : `if (typeof ${v} !== 'boolean') return undefined; row[${i}] = ${v} ? 1 : 0;`;
  const reads = features.map((name, i) => {
    const v = `v${i}`;
    return `const ${v} = value[${JSON.stringify(name)}];\n` +
      `if (typeof ${v} !== 'number') { ${other(v, i)} } else row[${i}] = ${v};`;
  });
  const body = `const row = new Array(${features.length});\n${reads.join('\n')}\nreturn { ${JSON.stringify(input)}: row };`;
  try {
    return new Function('value', body) as (value: object) => FeatureRow | undefined;
  } catch {
    return undefined;
  }
}

function readFeaturesLoop(input: string, features: readonly string[], missing: boolean): (value: object) => FeatureRow | undefined {
  return (value) => {
    const fields = value as Readonly<Record<string, unknown>>;
    const row = new Array<number>(features.length);
    for (let i = 0; i < features.length; i++) {
      const v = fields[features[i]!];
      if (typeof v === 'number') row[i] = v;
      else if (typeof v === 'boolean') row[i] = v ? 1 : 0;
      else if (v === null && missing) row[i] = NaN;
      else return undefined;
    }
    return { [input]: row };
  };
}

/**
 * Reads `metadata.features` by name from a record value, in order, into the model's single float
 * input; for a model that accepts missing values a null feature becomes NaN.
 */
export function featureMapping(metadata: Pick<ModelMetadata, 'inputs' | 'features' | 'acceptsMissingValues'>, compile = true): (value: RecordValue) => FeatureRow {
  const input = metadata.inputs[0]!.name;
  const features = metadata.features;
  const missing = metadata.acceptsMissingValues === true;
  const read = (compile ? compileFeatureReader(input, features, missing) : undefined) ?? readFeaturesLoop(input, features, missing);
  return (value) => {
    const row = typeof value === 'object' && value !== null ? read(value) : undefined;
    if (row === undefined) {
      throw featureError(features, value, features.find((name) => {
        const v = (value as Readonly<Record<string, unknown>> | null)?.[name];
        return typeof v !== 'number' && typeof v !== 'boolean' && !(missing && v === null);
      }));
    }
    return row;
  };
}

function labelName(labels: ModelMetadata['labels'], index: number, value: number): string | number {
  if (Array.isArray(labels)) return labels[index] ?? value;
  return labels?.[String(value)] ?? value;
}

/** Element `i` of a numeric (or int64) tensor as a number. */
const numberAt = (tensor: PlainTensor, i: number): number => Number(tensor.data[i]);

/** Values per batch row of an output tensor (an output without a batch dim is one row). */
const widthOf = (tensor: PlainTensor): number => (tensor.dims.length > 1 && tensor.dims[0]! > 0 ? tensor.data.length / tensor.dims[0]! : 1);

function tensor(tensors: OutputTensors, name: string): PlainTensor {
  const t = tensors[name];
  if (t === undefined) throw new TypeError(`the model has no '${name}' output (it has ${Object.keys(tensors).join(', ')})`);
  return t;
}

/** A classifier's prediction for batch row `index`, read straight from its `label` and `probabilities` tensors. */
function classifierOutputs(metadata: ModelMetadata): (tensors: OutputTensors, index: number) => ClassifierOutput & PredictionMeta {
  return (tensors, index) => {
    const raw = tensor(tensors, 'probabilities');
    const width = raw.dims[0] ? raw.data.length / raw.dims[0] : 1;
    const probabilities = new Array<number>(width);
    let labelIndex = 0;
    for (let c = 0; c < width; c++) {
      probabilities[c] = numberAt(raw, index * width + c);
      if (probabilities[c]! > probabilities[labelIndex]!) labelIndex = c;
    }
    return {
      label: labelName(metadata.labels, labelIndex, numberAt(tensor(tensors, 'label'), index)),
      labelIndex,
      score: probabilities[width - 1]!,
      probabilities,
      // written by the model for each batch (outputsAt's contract); declared here so the object keeps one shape
      model: metadata.name,
      version: metadata.version,
      latencyMs: 0,
    };
  };
}

/** An anomaly detector's prediction for batch row `index`, from its `label` and `scores` tensors. */
function anomalyOutputs(metadata: ModelMetadata): (tensors: OutputTensors, index: number) => AnomalyOutput & PredictionMeta {
  const labels = metadata.labels;
  return (tensors, index) => {
    const value = numberAt(tensor(tensors, 'label'), index);
    const label = labels === undefined ? value : labelName(labels, value, value);
    return { label, anomaly: value === -1, score: numberAt(tensor(tensors, 'scores'), index), model: metadata.name, version: metadata.version, latencyMs: 0 };
  };
}

/** A regressor's prediction for batch row `index`: the one value of its one output. */
function regressorOutputs(metadata: ModelMetadata): (tensors: OutputTensors, index: number) => RegressorOutput & PredictionMeta {
  const name = metadata.outputs[0]!.name;
  return (tensors, index) => {
    const t = tensor(tensors, name);
    const width = widthOf(t);
    if (width !== 1) throw new TypeError(`output '${name}' has ${width} values per record; a regressor has one (declare "kind": "tensors" in model.json for several)`);
    return { value: numberAt(t, index), model: metadata.name, version: metadata.version, latencyMs: 0 };
  };
}

/** Reads row `index` of one output: one value, the row's values, or them keyed by `columns`. */
function tensorValue(t: PlainTensor, index: number, columns: readonly string[] | undefined): TensorValue {
  const width = widthOf(t);
  const at = (i: number): number | string => {
    const v = t.data[i]!;
    return typeof v === 'string' ? v : Number(v);
  };
  if (columns !== undefined) {
    if (columns.length !== width) throw new TypeError(`an output has ${width} values per record but model.json names ${columns.length} columns`);
    const row: { [column: string]: number | string } = {};
    for (let c = 0; c < width; c++) row[columns[c]!] = at(index * width + c);
    return row;
  }
  if (width === 1) return at(index);
  const row = new Array<number | string>(width);
  for (let c = 0; c < width; c++) row[c] = at(index * width + c);
  return row;
}

/** A `tensors` model's prediction for batch row `index`: every output of model.json by name. */
function tensorOutputs(metadata: ModelMetadata): (tensors: OutputTensors, index: number) => TensorOutput & PredictionMeta {
  const outputs = metadata.outputs.map((o) => ({ name: o.name, columns: o.columns }));
  return (tensors, index) => {
    const prediction: TensorOutput & PredictionMeta = { model: metadata.name, version: metadata.version, latencyMs: 0 };
    for (const { name, columns } of outputs) prediction[name] = tensorValue(tensor(tensors, name), index, columns);
    return prediction;
  };
}

function outputsOf(kind: ModelKind, metadata: ModelMetadata): (tensors: OutputTensors, index: number) => RegistryOutput & PredictionMeta {
  switch (kind) {
    case 'classifier': return classifierOutputs(metadata);
    case 'anomaly': return anomalyOutputs(metadata);
    case 'regressor': return regressorOutputs(metadata);
    case 'tensors': return tensorOutputs(metadata);
  }
}

export interface RegistryModelSettings {
  workers?: number | undefined;
  threads?: { intraOp?: number; interOp?: number } | undefined;
  /** Drift settings; `false` turns drift monitoring off. */
  drift?: DriftOptions | false | undefined;
}

/** The `onnxModel` options of a registry version: features by name, outputs by model kind, schema, drift. */
export function registryModelOptions(metadata: ModelMetadata, path: string, settings: RegistryModelSettings): OnnxModelOptions<RecordValue, RegistryOutput> {
  const floatInputs = metadata.inputs.filter((i) => i.type === 'float32' || i.type === 'float64');
  if (metadata.inputs.length !== 1 || floatInputs.length !== 1) {
    throw new ModelError(`a registry model takes one float input of its features; model.json lists ${metadata.inputs.map((i) => `${i.name} (${i.type})`).join(', ')}`, { model: metadata.name, version: metadata.version });
  }
  const kind = modelKind(metadata);
  const options: OnnxModelOptions<RecordValue, RegistryOutput> = {
    path,
    name: metadata.name,
    version: metadata.version,
    inputs: featureMapping(metadata),
    columnNames: { [metadata.inputs[0]!.name]: metadata.features },
    outputsAt: outputsOf(kind, metadata),
  };
  // a regressor's value is what drift checks against training.outputs.score and the score histogram charts
  if (kind === 'regressor') options.score = (output) => (output as RegressorOutput).value;
  if (metadata.inputSchema !== undefined) options.inputSchema = metadata.inputSchema;
  if (metadata.acceptsMissingValues === true) options.acceptsMissingValues = true;
  if (settings.workers !== undefined) options.workers = settings.workers;
  if (settings.threads !== undefined) options.threads = settings.threads;
  if (settings.drift !== false && metadata.training !== undefined) {
    const monitor: MonitorOptions = { ...settings.drift, training: metadata.training, features: metadata.features };
    options.monitor = monitor;
  }
  return options;
}
