import { modelKind, type ModelMetadata } from './model-metadata.ts';
import { ModelError } from './model.ts';
import type { MonitorOptions, OnnxModelOptions } from './onnx-model.ts';
import type { DriftOptions } from './drift.ts';
import type { FeatureRow, OutputRow } from './tensor-batch.ts';

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
  /** The model's label: -1 for an anomaly, 1 for normal. */
  label: number;
  anomaly: boolean;
  /** The anomaly score (scikit-learn's `decision_function`: below 0 is anomalous). */
  score: number;
}

export type RegistryOutput = ClassifierOutput | AnomalyOutput;

/** Reads `metadata.features` by name from a record value, in order, into the model's single float input. */
function featureMapping(metadata: ModelMetadata): (value: RecordValue) => FeatureRow {
  const input = metadata.inputs[0]!.name;
  const features = metadata.features;
  return (value) => {
    if (typeof value !== 'object' || value === null) throw new TypeError(`the record value must be an object with ${features.join(', ')}`);
    const fields = value as Readonly<Record<string, unknown>>;
    const row = new Array<number>(features.length);
    for (let i = 0; i < features.length; i++) {
      const v = fields[features[i]!];
      if (typeof v === 'number') row[i] = v;
      else if (typeof v === 'boolean') row[i] = v ? 1 : 0;
      else throw new TypeError(`feature '${features[i]}' is ${v === undefined ? 'missing' : `a ${v === null ? 'null' : typeof v}`}, expected a number`);
    }
    return { [input]: row };
  };
}

function labelName(labels: ModelMetadata['labels'], index: number, value: number): string | number {
  if (Array.isArray(labels)) return labels[index] ?? value;
  return labels?.[String(value)] ?? value;
}

function classifierOutputs(metadata: ModelMetadata): (row: OutputRow) => ClassifierOutput {
  return (row) => {
    const raw = row['probabilities']!;
    const probabilities = new Array<number>(raw.length);
    for (let i = 0; i < raw.length; i++) probabilities[i] = Number(raw[i]);
    let labelIndex = 0;
    for (let i = 1; i < probabilities.length; i++) if (probabilities[i]! > probabilities[labelIndex]!) labelIndex = i;
    const value = Number(row['label']![0]);
    return {
      label: labelName(metadata.labels, labelIndex, value),
      labelIndex,
      score: probabilities[probabilities.length - 1]!,
      probabilities,
    };
  };
}

function anomalyOutputs(): (row: OutputRow) => AnomalyOutput {
  return (row) => {
    const label = Number(row['label']![0]);
    return { label, anomaly: label === -1, score: Number(row['scores']![0]) };
  };
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
    outputs: kind === 'classifier' ? classifierOutputs(metadata) : anomalyOutputs(),
  };
  if (metadata.inputSchema !== undefined) options.inputSchema = metadata.inputSchema;
  if (settings.workers !== undefined) options.workers = settings.workers;
  if (settings.threads !== undefined) options.threads = settings.threads;
  if (settings.drift !== false && metadata.training !== undefined) {
    const monitor: MonitorOptions = { ...settings.drift, training: metadata.training, features: metadata.features };
    options.monitor = monitor;
  }
  return options;
}
