import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DriftOptions } from './drift.ts';
import { registryInstruments } from './metrics.ts';
import { loadModelMetadata, type ModelMetadata } from './model-metadata.ts';
import { ModelError, describeError, type Model } from './model.ts';
import { onnxModel, type OnnxModel } from './onnx-model.ts';
import { registryModelOptions, type RecordValue, type RegistryOutput } from './registry-mapping.ts';
import { RegistryModel, type VersionSource, type VersionedModel } from './registry-model.ts';
import { shadowModel, splitTraffic, type ShadowComparison, type TrafficWeights } from './traffic.ts';
import { checkVersion } from './version-check.ts';

export interface RegistryOptions {
  /** How often to look for added or removed version folders (default 1000 ms; 0 = only on `refresh()`). */
  pollIntervalMs?: number;
  /** Worker threads per loaded version (default 2; 0 = main thread). */
  workers?: number;
  threads?: { intraOp?: number; interOp?: number };
  /** Drift monitoring of every version against its model.json `training` (default on); `false` turns it off. */
  drift?: DriftOptions | false;
  /** A version that fails to load (the previous one keeps serving), or a folder that cannot be read. */
  onError?: (error: ModelError) => void;
  /** A model switched version (hot reload). */
  onReload?: (event: ReloadEvent) => void;
}

export interface ReloadEvent {
  model: string;
  from: string | undefined;
  to: string;
}

export interface ShadowSpec<Out> {
  /** The version scored in the shadow. */
  candidate: string;
  /** The version whose results are returned (default: the newest, following hot reloads). */
  primary?: string;
  onCompare?: (comparison: ShadowComparison<Out>) => void;
  /** Also write each comparison as a record to this topic (see `ShadowOptions.topic`). */
  topic?: string;
}

/** version → a stamp of its files (size and mtime), to notice a rewritten version. */
type Catalog = Map<string, Map<string, string>>;

/** Why a version cannot serve, and the stamp of the files that failed (it is tried again when they change). */
interface Failure {
  stamp: string;
  reason: string;
}

interface Engine {
  refs: number;
  model: Promise<OnnxModel<RecordValue, RegistryOutput>>;
}

const byNumber = (a: string, b: string): number => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);
const id = (name: string, version: string): string => `${name}@${version}`;

async function stampOf(dir: string): Promise<string | undefined> {
  try {
    const [onnx, json] = await Promise.all([stat(join(dir, 'model.onnx')), stat(join(dir, 'model.json'))]);
    if (!onnx.isFile() || !json.isFile()) return undefined;
    return `${onnx.size}:${onnx.mtimeMs}:${json.size}:${json.mtimeMs}`;
  } catch {
    return undefined;
  }
}

async function subfolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => e.name);
}

/** Lists `<dir>/<name>/<version>/` folders that hold both model.onnx and model.json. */
async function scan(dir: string): Promise<Catalog> {
  const catalog: Catalog = new Map();
  for (const name of await subfolders(dir)) {
    const versions = new Map<string, string>();
    let folders: string[];
    try {
      folders = await subfolders(join(dir, name));
    } catch {
      continue; // removed while we looked
    }
    for (const version of folders.filter((f) => /^\d+$/.test(f)).sort(byNumber)) {
      const stamp = await stampOf(join(dir, name, version));
      if (stamp !== undefined) versions.set(version, stamp);
    }
    if (versions.size > 0) catalog.set(name, versions);
  }
  return catalog;
}

/**
 * Models on disk in TensorFlow Serving's layout, `<dir>/<name>/<version>/model.onnx` plus
 * `model.json`. Hands out models that follow the newest version and hot-reload, pinned versions,
 * A/B splits and shadow pairs; one loaded session (and worker) per version is shared by all of them.
 */
export class ModelRegistry {
  private catalog: Catalog = new Map();
  private readonly engines = new Map<string, Engine>();
  private readonly failures = new Map<string, Failure>();
  /** version id → the stamp of the files last checked by checkVersion. */
  private readonly checked = new Map<string, string>();
  private readonly handles = new Set<RegistryModel>();
  private readonly closing = new Set<Promise<void>>();
  private queue: Promise<void> = Promise.resolve();
  private polling = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(readonly dir: string, private readonly options: RegistryOptions) {}

  /**
   * Opens a registry folder, loads each version once to check it (a version that cannot serve is
   * reported to `onError` and never chosen), and starts watching it for new and removed versions.
   */
  static async open(dir: string, options: RegistryOptions = {}): Promise<ModelRegistry> {
    const registry = new ModelRegistry(dir, options);
    try {
      registry.catalog = await scan(dir);
    } catch (error) {
      throw new ModelError(`cannot read the model registry folder ${dir}: ${describeError(error)}`, { model: '*', cause: error });
    }
    await registry.checkNew();
    const interval = options.pollIntervalMs ?? 1000;
    if (interval > 0) {
      registry.timer = setInterval(() => registry.poll(), interval);
      registry.timer.unref();
    }
    return registry;
  }

  /** Model names with at least one complete version, sorted. */
  names(): string[] {
    return [...this.catalog.keys()].sort();
  }

  /** Versions of a model, oldest first (numeric order). */
  versions(name: string): string[] {
    return [...(this.catalog.get(name)?.keys() ?? [])];
  }

  /** Why a version cannot serve (its load error), or undefined for one that loads. */
  loadError(name: string, version: string): string | undefined {
    const failure = this.failures.get(id(name, version));
    return failure !== undefined && failure.stamp === this.catalog.get(name)?.get(version) ? failure.reason : undefined;
  }

  /** The model.json of a version (default: the newest that loads). */
  async metadata(name: string, version?: string): Promise<ModelMetadata> {
    const v = version ?? this.newest(name, true);
    return loadModelMetadata(join(this.dir, name, v, 'model.json'), { name, version: v });
  }

  /** A model that serves the newest version and hot-reloads, or the pinned `version`. */
  model<In extends RecordValue = RecordValue, Out extends RegistryOutput = RegistryOutput>(
    name: string,
    options: { version?: string } = {},
  ): VersionedModel<In, Out> {
    if (this.closed) throw new ModelError('the registry is closed', { model: name });
    this.check(name, options.version);
    const handle = new RegistryModel(name, this.source, options.version);
    this.handles.add(handle);
    return handle as unknown as VersionedModel<In, Out>;
  }

  /** Routes each record to a version by a stable hash of its key, e.g. `{ '1': 0.9, '2': 0.1 }`. */
  split<In extends RecordValue = RecordValue, Out extends RegistryOutput = RegistryOutput>(name: string, weights: TrafficWeights): Model<In, Out> {
    const models: Record<string, Model<In, Out>> = {};
    for (const version of Object.keys(weights)) models[version] = this.model<In, Out>(name, { version });
    return splitTraffic(name, models, weights);
  }

  /** Scores with the primary (default: newest) and the candidate; returns the primary's results and reports comparisons. */
  shadow<In extends RecordValue = RecordValue, Out extends RegistryOutput = RegistryOutput>(name: string, spec: ShadowSpec<Out>): Model<In, Out> {
    const primary = this.model<In, Out>(name, spec.primary === undefined ? {} : { version: spec.primary });
    const candidate = this.model<In, Out>(name, { version: spec.candidate });
    const { onCompare, topic } = spec;
    return shadowModel(name, primary, candidate, { ...(onCompare !== undefined ? { onCompare } : {}), ...(topic !== undefined ? { topic } : {}) });
  }

  /** Looks at the folder now and moves every following model to its newest version; resolves when switched. */
  refresh(): Promise<void> {
    const run = this.queue.then(() => this.rescan());
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Stops watching, closes every model handed out and ends their sessions and workers. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.queue;
    await Promise.all([...this.handles].map((h) => h.close()));
    await Promise.all([...this.closing]);
  }

  private poll(): void {
    if (this.polling || this.closed) return;
    this.polling = true;
    this.refresh()
      .catch((error: unknown) => this.report(error instanceof ModelError ? error : new ModelError(describeError(error), { model: '*', cause: error })))
      .finally(() => (this.polling = false));
  }

  private async rescan(): Promise<void> {
    if (this.closed) return;
    try {
      this.catalog = await scan(this.dir);
    } catch (error) {
      throw new ModelError(`cannot read the model registry folder ${this.dir}: ${describeError(error)}`, { model: '*', cause: error });
    }
    await this.checkNew();
    await Promise.all([...this.handles].map((h) => h.update().catch(() => undefined)));
  }

  /** Loads each version whose files are new or changed since the last look; one that fails is recorded and reported. */
  private async checkNew(): Promise<void> {
    const todo: { name: string; version: string; stamp: string }[] = [];
    for (const [name, versions] of this.catalog) {
      for (const [version, stamp] of versions) if (this.checked.get(id(name, version)) !== stamp) todo.push({ name, version, stamp });
    }
    // one at a time: a folder of many versions should not load them all at once
    for (const { name, version, stamp } of todo) {
      this.checked.set(id(name, version), stamp);
      try {
        await checkVersion(this.dir, name, version);
        this.failures.delete(id(name, version));
      } catch (error) {
        this.source.failed(name, version, error);
      }
    }
  }

  private check(name: string, version: string | undefined): void {
    const versions = this.catalog.get(name);
    if (versions === undefined) {
      throw new ModelError(`no such model in ${this.dir} (found: ${this.names().join(', ') || 'none'}); expected ${join(this.dir, name, '<version>', 'model.onnx')} and model.json`, { model: name });
    }
    if (version !== undefined && !versions.has(version)) {
      throw new ModelError(`no version ${version} in ${join(this.dir, name)} (found: ${[...versions.keys()].join(', ')})`, { model: name, version });
    }
  }

  private newest(name: string, usable = false): string {
    const versions = this.catalog.get(name);
    const candidates = [...(versions?.keys() ?? [])].filter((v) => !usable || this.loadError(name, v) === undefined);
    const newest = candidates[candidates.length - 1];
    if (newest === undefined) {
      throw new ModelError(versions === undefined ? `no versions left in ${join(this.dir, name)}` : 'no version loads (see the earlier errors)', { model: name });
    }
    return newest;
  }

  private report(error: ModelError): void {
    this.options.onError?.(error);
  }

  private readonly source: VersionSource = {
    target: (name, pinned) => {
      if (pinned === undefined) return this.newest(name, true);
      const stamp = this.catalog.get(name)?.get(pinned);
      const failed = this.failures.get(id(name, pinned));
      if (failed !== undefined && (stamp === undefined || failed.stamp === stamp)) {
        throw new ModelError(`cannot serve: ${failed.reason} (tried again when its files change)`, { model: name, version: pinned });
      }
      return pinned;
    },
    acquire: (name, version) => {
      const key = id(name, version);
      let engine = this.engines.get(key);
      if (engine === undefined) {
        engine = { refs: 0, model: this.load(name, version) };
        this.engines.set(key, engine);
      }
      engine.refs++;
      return engine.model;
    },
    release: (name, version) => {
      const key = id(name, version);
      const engine = this.engines.get(key);
      if (engine === undefined || --engine.refs > 0) return;
      this.engines.delete(key);
      const closing = engine.model.then((m) => m.close(), () => undefined);
      this.closing.add(closing);
      void closing.finally(() => this.closing.delete(closing));
    },
    failed: (name, version, error) => {
      const failure = error instanceof ModelError ? error : new ModelError(`cannot load: ${describeError(error)}`, { model: name, version, cause: error });
      const stamp = this.catalog.get(name)?.get(version);
      const prefix = `model ${id(name, version)}: `;
      const reason = failure.message.startsWith(prefix) ? failure.message.slice(prefix.length) : failure.message;
      if (stamp !== undefined) this.failures.set(id(name, version), { stamp, reason });
      registryInstruments.reload(name, version, 'failed');
      this.report(failure);
    },
    switched: (name, from, to) => {
      this.failures.delete(id(name, to));
      registryInstruments.active(name, to);
      if (from !== undefined) {
        registryInstruments.reload(name, to, 'switched');
        this.options.onReload?.({ model: name, from, to });
      }
    },
    forget: (handle) => {
      this.handles.delete(handle);
    },
  };

  private async load(name: string, version: string): Promise<OnnxModel<RecordValue, RegistryOutput>> {
    const folder = join(this.dir, name, version);
    const metadata = await loadModelMetadata(join(folder, 'model.json'), { name, version });
    const options = registryModelOptions(metadata, join(folder, 'model.onnx'), {
      workers: this.options.workers,
      threads: this.options.threads,
      drift: this.options.drift,
    });
    return onnxModel(options);
  }
}
