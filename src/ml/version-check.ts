import { join } from 'node:path';
import { loadModelMetadata } from './model-metadata.ts';
import { ModelError, describeError } from './model.ts';
import { onnxModel } from './onnx-model.ts';
import { registryModelOptions } from './registry-mapping.ts';
import type { TensorSpec } from './tensor-batch.ts';

function describe(specs: readonly { name: string; type?: string | undefined }[]): string {
  return specs.map((s) => `'${s.name}'${s.type === undefined ? '' : ` (${s.type})`}`).join(', ') || 'none';
}

/** What model.json declares that the session does not have: a missing name, or another element type. */
function mismatch(kind: 'input' | 'output', declared: readonly { name: string; type: string }[], actual: readonly TensorSpec[]): string | undefined {
  for (const d of declared) {
    const found = actual.find((a) => a.name === d.name);
    if (found === undefined) return `model.json lists ${kind} '${d.name}' but model.onnx has ${kind}s ${describe(actual)}`;
    if (found.type !== undefined && found.type !== d.type) return `model.json says ${kind} '${d.name}' is ${d.type} but in model.onnx it is ${found.type}`;
  }
  return undefined;
}

/**
 * Loads one version folder as the registry would serve it — model.json parsed and checked, the ONNX
 * session created and warmed up on the main thread — and checks that model.json's inputs and
 * outputs are the session's; throws a ModelError with the reason, or resolves when it would serve.
 * The session is closed again: the registry loads a version for serving only when a model uses it.
 */
export async function checkVersion(dir: string, name: string, version: string): Promise<void> {
  const folder = join(dir, name, version);
  const metadata = await loadModelMetadata(join(folder, 'model.json'), { name, version });
  const model = onnxModel(registryModelOptions(metadata, join(folder, 'model.onnx'), { workers: 0, drift: false }));
  try {
    await model.ready();
    const signature = model.signature!;
    const problem = mismatch('input', metadata.inputs, signature.inputs) ?? mismatch('output', metadata.outputs, signature.outputs);
    if (problem !== undefined) throw new ModelError(problem, { model: name, version });
  } catch (error) {
    throw error instanceof ModelError ? error : new ModelError(`cannot load: ${describeError(error)}`, { model: name, version, cause: error });
  } finally {
    await model.close();
  }
}
