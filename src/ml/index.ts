export { ModelError } from './model.ts';
export type {
  Model, ModelErrorOptions, ModelInput, ModelOutput, Prediction, PredictionMeta, ScoreContext, ScoreInput, ScoreOutcome, ScoreStage,
} from './model.ts';
export { onnxModel } from './onnx-model.ts';
export type { MonitorOptions, OnnxModel, OnnxModelOptions } from './onnx-model.ts';
export type { FeatureRow, FeatureValues, OutputRow, OutputTensors, PlainTensor, SessionSignature, TensorSpec, TensorType } from './tensor-batch.ts';
export { loadModelMetadata, parseModelMetadata, modelKind } from './model-metadata.ts';
export type { JsonSchema, ModelKind, ModelMetadata, TensorDescription, TrainingDistributions } from './model-metadata.ts';
export { ModelRegistry } from './registry.ts';
export type { RegistryOptions, ReloadEvent, ShadowSpec } from './registry.ts';
export type { VersionedModel } from './registry-model.ts';
export type { AnomalyOutput, ClassifierOutput, RecordValue, RegistryOutput, RegressorOutput, TensorOutput, TensorValue } from './registry-mapping.ts';
export { keyHash, shadowComparisonRecord, shadowModel, splitTraffic } from './traffic.ts';
export { onModelRecord, type ModelRecord } from './model-records.ts';
export type { ShadowComparison, ShadowOptions, TrafficWeights } from './traffic.ts';
export { MicroBatcher } from './batcher.ts';
export type { MicroBatcherOptions, Schedule } from './batcher.ts';
export { modelMetrics, mergeModelMetrics } from './metrics.ts';
export { DriftMonitor, onDriftAlert, binOf, populationStabilityIndex, DEFAULT_DRIFT_THRESHOLD, DEFAULT_DRIFT_WINDOW } from './drift.ts';
export type { BinnedDistribution, DriftAlert, DriftOptions } from './drift.ts';
